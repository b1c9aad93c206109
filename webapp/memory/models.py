"""``memory_entries``: the L3 tier and the source of truth for every memory value.

A value is stored inline as JSON, or, over ``MEMORY_BLOB_THRESHOLD_BYTES``, as a file in the
L4 blob directory named by its SHA-256 (``blob_ref``); ``size`` is the byte length of the
value's canonical JSON either way. Entries of a ``run:<id>`` namespace carry ``run_id`` so
deleting the run deletes them (ON DELETE CASCADE); their blobs, if any, become orphans that
the maintenance sweep removes.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.clock import utcnow
from webapp.extensions import db

MAX_NAMESPACE_CHARS = 120
MAX_KEY_CHARS = 512


class MemoryEntry(db.Model):
    __tablename__ = "memory_entries"
    __table_args__ = (
        UniqueConstraint("namespace", "key", name="uq_memory_entries_namespace_key"),
        Index("ix_memory_entries_expires_at", "expires_at"),
        Index("ix_memory_entries_blob_ref", "blob_ref"),
        Index("ix_memory_entries_run_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    namespace: Mapped[str] = mapped_column(String(MAX_NAMESPACE_CHARS))
    key: Mapped[str] = mapped_column(String(MAX_KEY_CHARS))
    value: Mapped[Any | None] = mapped_column(JSON(none_as_null=True), default=None)
    blob_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("workflow_runs.id", ondelete="CASCADE"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def tier(self) -> str:
        return "l4" if self.blob_ref else "l3"

    def __repr__(self) -> str:
        return f"<MemoryEntry {self.namespace}/{self.key} {self.size}B>"
