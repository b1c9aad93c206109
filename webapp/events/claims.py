"""Claiming outbox rows so that many dispatchers publish each row once and each subject in order.

1. ``FOR UPDATE SKIP LOCKED`` takes up to a batch of pending rows in id order; rows another
   dispatcher holds are skipped, never waited for, so dispatchers never publish a row twice.
   Subjects whose head waits for its retry are not even claimed, so a failing run does not
   fill every batch with events it cannot send.
2. Per subject, a transaction-scoped advisory lock: only one dispatcher publishes a subject at
   a time (another one holding a *later* row of the same run must not overtake it).
3. Under that lock, a subject keeps only the claimed rows that are its next pending rows with
   no gap: a head still held elsewhere, or backing off, holds back everything after it.

Everything is released at commit. SQLite (the embedded mode) runs one dispatcher and has no
row or advisory locks; step 3 still keeps its order.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import ColumnElement, String, any_, bindparam, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from webapp.events.models import Event

# The first key of pg_try_advisory_xact_lock(int, int): keeps our locks apart from others'.
ADVISORY_LOCK_CLASS = 1_701_000_714
SUBJECT_LOCKS = text(
    "SELECT s, pg_try_advisory_xact_lock(:lock_class, hashtext(s)) FROM unnest(CAST(:subjects AS text[])) AS s"
).bindparams(bindparam("subjects"), bindparam("lock_class"))


def one_of(session: Session, column, values: list, item_type) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL as ``= ANY(array)``: one parameter instead of one per
    value, which keeps a 200-row batch's statements small and their parsing cheap."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(item_type)))
    return column.in_(values)


def pending():
    return (Event.published_at.is_(None), Event.failed_at.is_(None))


def claim(session: Session, limit: int, now: datetime) -> list[Event]:
    """Pending rows in id order, skipping rows others hold and subjects whose head waits for its
    retry (a head is the subject's earliest pending row, so all its other rows are later)."""
    waiting = aliased(Event)
    waiting_subjects = select(waiting.subject).where(
        waiting.published_at.is_(None), waiting.failed_at.is_(None), waiting.next_attempt_at.is_not(None),
        waiting.next_attempt_at > now)
    query = select(Event).where(*pending(), or_(Event.next_attempt_at.is_(None), Event.next_attempt_at <= now),
                                Event.subject.not_in(waiting_subjects))
    return list(session.scalars(query.order_by(Event.id).limit(limit).with_for_update(skip_locked=True, of=Event)))


def lock_subjects(session: Session, subjects: list[str]) -> set[str]:
    """The subjects this transaction now owns; on SQLite, all of them."""
    if session.get_bind().dialect.name != "postgresql":
        return set(subjects)
    rows = session.execute(SUBJECT_LOCKS, {"subjects": subjects, "lock_class": ADVISORY_LOCK_CLASS})
    return {subject for subject, got in rows if got}


def publishable(session: Session, rows: list[Event]) -> tuple[list[Event], int]:
    """The claimed rows that may go out now, in id order, and how many were held back."""
    if not rows:
        return [], 0
    owned = lock_subjects(session, sorted({row.subject for row in rows}))
    if not owned:
        return [], len(rows)
    queue: dict[str, list[int]] = defaultdict(list)
    for subject, event_id in session.execute(
            select(Event.subject, Event.id).where(*pending(), one_of(session, Event.subject, sorted(owned), String),
                                                  Event.id <= max(row.id for row in rows)).order_by(Event.id)):
        queue[subject].append(event_id)
    position: dict[str, int] = defaultdict(int)
    broken: set[str] = set()
    ready: list[Event] = []
    for row in rows:  # already in id order
        subject = row.subject
        if subject not in owned or subject in broken:
            continue
        expected = queue[subject][position[subject]] if position[subject] < len(queue[subject]) else None
        if expected != row.id:
            broken.add(subject)
            continue
        position[subject] += 1
        ready.append(row)
    return ready, len(rows) - len(ready)
