"""Where the dispatcher sends events: the RabbitMQ topic exchange and Redis pub/sub.

Both raise ``SinkDown`` when the transport itself is unreachable (nothing is wrong with the
event: the dispatcher keeps the rows and backs off) and ``Rejected`` when the broker refuses one
message (that event's attempt counts towards its limit; its peers go on).
"""
from __future__ import annotations

import contextlib
from datetime import datetime

import pika
from pika.exceptions import AMQPError, ChannelClosedByBroker, NackError, UnroutableError
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


class RabbitPublisher:
    """A durable topic exchange, persistent messages, publisher confirms and ``mandatory``.

    ``publish`` returns only after the broker confirmed the message. A message that no queue
    is bound for comes back (``mandatory``): it counts as published, because an event nobody
    subscribes to is normal, and ``publish`` returns False so the dispatcher can count it.
    """

    name = "rabbitmq"

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.parameters = pika.URLParameters(url)
        self.parameters.socket_timeout = timeout
        self.parameters.stack_timeout = timeout
        self.parameters.blocked_connection_timeout = timeout
        self.parameters.connection_attempts = 1
        self.connection: pika.BlockingConnection | None = None
        self.channel = None

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
                self.channel.confirm_delivery()
            except (AMQPError, OSError) as error:
                self.close()
                raise SinkDown(f"RabbitMQ channel failed: {type(error).__name__} {error}".strip()) from None

    def publish(self, routing_key: str, body: bytes, message_id: str, timestamp: datetime) -> bool:
        self.open()
        properties = pika.BasicProperties(content_type="application/json", delivery_mode=2, type=routing_key,
                                          message_id=message_id, timestamp=int(timestamp.timestamp()))
        try:
            self.channel.basic_publish(EXCHANGE, routing_key, body, properties, mandatory=True)
        except UnroutableError:
            return False
        except NackError:
            raise Rejected("RabbitMQ refused the message (nack)") from None
        except ChannelClosedByBroker as error:
            # The broker closes the channel for a message it will never take (e.g. over its
            # max_message_size); the connection is fine, the next publish opens a new channel.
            self.channel = None
            raise Rejected(f"RabbitMQ closed the channel: {error.reply_code} {error.reply_text}") from None
        except (AMQPError, OSError) as error:
            self.close()
            raise SinkDown(f"RabbitMQ connection lost: {type(error).__name__} {error}".strip()) from None
        return True

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
