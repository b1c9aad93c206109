"""Where the dispatcher sends events: the RabbitMQ topic exchange and Redis pub/sub.

Both raise ``SinkDown`` when the transport itself is unreachable (nothing is wrong with the
event: the dispatcher keeps the rows and backs off) and ``Rejected`` when the broker refuses one
message (that event's attempt counts towards its limit; its peers go on).
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import datetime

import pika
from pika import spec
from pika.exceptions import AMQPError, ChannelClosedByBroker
from redis import Redis, RedisError

EXCHANGE = "flowdeck.events"
REDIS_CHANNEL = "flowdeck:events"
# Set by every running dispatcher loop with a short expiry: "events are flowing". Live pages
# keep polling while no dispatcher is alive, since their stream would stay silent.
DISPATCHING_KEY = "flowdeck:events:dispatching"


class SinkDown(Exception):
    """The transport is unreachable or broke mid-batch."""


class Rejected(Exception):
    """The broker refused this one message."""


@dataclass(frozen=True)
class Outgoing:
    routing_key: str
    body: bytes
    message_id: str
    timestamp: datetime


class RabbitPublisher:
    """A durable topic exchange, persistent messages, publisher confirms and ``mandatory``.

    ``publish_wave`` sends several messages and then waits once for all their confirms: with
    pika's blocking channel in confirm mode every ``basic_publish`` is a full round trip to the
    broker (route, persist, ack), which cost the dispatcher most of its time. The dispatcher puts
    at most one event of a subject in a wave, so a refused event never has a later event of its
    subject already on its way. A message that no queue is bound for comes back (``mandatory``):
    it counts as published, because an event nobody subscribes to is normal.

    The wave is published on pika's underlying asynchronous channel (``BlockingChannel._impl``,
    pika 1.3) with a confirm callback: the blocking channel's own confirm mode allows only one
    message in flight.
    """

    name = "rabbitmq"

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.parameters = pika.URLParameters(url)
        self.parameters.socket_timeout = timeout
        self.parameters.stack_timeout = timeout
        self.parameters.blocked_connection_timeout = timeout
        self.parameters.connection_attempts = 1
        self.timeout = timeout
        self.connection: pika.BlockingConnection | None = None
        self.channel = None
        self.next_tag = 1  # the delivery tag the broker gives the channel's next message
        self.confirmed: dict[int, bool] = {}  # delivery tag -> acked (True) or nacked (False)
        self.returned: set[str] = set()  # message ids that came back unroutable
        self.waiting: set[int] = set()  # delivery tags of the wave not confirmed yet
        self.closed_reason: Exception | None = None  # why the broker closed the channel

    def open(self) -> None:
        if self.connection is None or not self.connection.is_open:
            self.close()
            try:
                self.connection = pika.BlockingConnection(self.parameters)
            except (AMQPError, OSError) as error:
                raise SinkDown(f"RabbitMQ is unreachable: {type(error).__name__} {error}".strip()) from None
        if self.channel is None or not self.channel.is_open:
            try:
                self.channel = self.connection.channel()
                self.channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
                self.next_tag, self.confirmed, self.returned = 1, {}, set()
                impl = self.channel._impl
                impl.add_on_return_callback(lambda _channel, _method, properties, _body:
                                            self.returned.add(properties.message_id))
                impl.add_on_close_callback(lambda _channel, reason: setattr(self, "closed_reason", reason))
                impl.confirm_delivery(self.on_confirm)
            except (AMQPError, OSError) as error:
                self.close()
                raise SinkDown(f"RabbitMQ channel failed: {type(error).__name__} {error}".strip()) from None

    def on_confirm(self, frame) -> None:
        method = frame.method
        acked = isinstance(method, spec.Basic.Ack)
        tags = [tag for tag in self.waiting if tag <= method.delivery_tag] if method.multiple else [method.delivery_tag]
        for tag in tags:
            self.confirmed[tag] = acked
            self.waiting.discard(tag)
        if not self.waiting:  # wake process_data_events at once rather than at its time limit
            self.connection.call_later(0, lambda: None)

    def publish_wave(self, messages: list[Outgoing]) -> list[bool | Rejected]:
        """Publish and wait for every confirm; per message True (routed), False (unroutable) or
        ``Rejected``. Raises ``SinkDown`` when the connection fails (nothing of the wave is known)."""
        self.open()
        tags = list(range(self.next_tag, self.next_tag + len(messages)))
        self.next_tag += len(messages)
        self.waiting = set(tags)
        try:
            for message in messages:
                properties = pika.BasicProperties(
                    content_type="application/json", delivery_mode=2, type=message.routing_key,
                    message_id=message.message_id, timestamp=int(message.timestamp.timestamp()))
                self.channel._impl.basic_publish(EXCHANGE, message.routing_key, message.body, properties,
                                                 mandatory=True)
            deadline = time.monotonic() + self.timeout
            while self.waiting and self.channel.is_open and time.monotonic() < deadline:
                self.connection.process_data_events(time_limit=max(deadline - time.monotonic(), 0))
        except (AMQPError, OSError) as error:
            self.close()
            raise SinkDown(f"RabbitMQ connection lost: {type(error).__name__} {error}".strip()) from None
        if self.channel.is_closed:
            return self.after_channel_closed(messages)
        if self.waiting:
            self.close()
            raise SinkDown(f"RabbitMQ confirmed {len(tags) - len(self.waiting)} of {len(tags)} messages "
                           f"within {self.timeout:.0f}s")
        outcomes: list[bool | Rejected] = []
        for tag, message in zip(tags, messages, strict=True):
            if not self.confirmed.pop(tag):
                outcomes.append(Rejected("RabbitMQ refused the message (nack)"))
            else:
                outcomes.append(message.message_id not in self.returned)
                self.returned.discard(message.message_id)
        return outcomes

    def after_channel_closed(self, messages: list[Outgoing]) -> list[bool | Rejected]:
        """The broker closes the channel over a message it will never take (e.g. one over its
        max_message_size); the connection is fine. Alone, that message is refused; in a wave,
        which one it was is unknown, so each is sent again alone (a duplicate keeps its id)."""
        reason, self.channel = self.closed_reason, None
        if len(messages) > 1:
            return [outcome for message in messages for outcome in self.publish_wave([message])]
        detail = f"{reason.reply_code} {reason.reply_text}" if isinstance(reason, ChannelClosedByBroker) else reason
        return [Rejected(f"RabbitMQ closed the channel: {detail}")]

    def close(self) -> None:
        connection, self.connection, self.channel = self.connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(Exception):  # already broken: dropping it is all that is left
                connection.close()


class RedisPublisher:
    """Redis pub/sub for the console's live pages: one channel, readers filter by type."""

    name = "redis"

    def __init__(self, client: Redis) -> None:
        self.client = client

    def mark_alive(self, seconds: float) -> None:
        try:
            self.client.set(DISPATCHING_KEY, "1", px=int(seconds * 1000))
        except RedisError:
            pass  # Redis is down: the next batch reports it

    def publish_many(self, bodies: list[bytes]) -> None:
        if not bodies:
            return
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for body in bodies:
                    pipe.publish(REDIS_CHANNEL, body)
                pipe.execute()
        except RedisError as error:
            raise SinkDown(f"Redis is unreachable: {type(error).__name__} {error}".strip()) from None
