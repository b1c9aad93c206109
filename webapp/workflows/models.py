"""The ``workflows`` and ``workflow_versions`` tables (docs/architecture.md).

A workflow is the named, mutable head; each saved definition is an immutable
``WorkflowVersion`` row. Runs pin the version they started with, so editing a workflow never
changes what a running or finished run did. ``definition_hash`` lets an import of an unchanged
definition be a no-op instead of a new version.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.workflows.definition import slugify


class Workflow(db.Model):
    __tablename__ = "workflows"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    current_version: Mapped[int] = mapped_column(default=1)
    archived: Mapped[bool] = mapped_column(default=False)
    max_concurrent_runs: Mapped[int | None] = mapped_column(default=None)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    versions: Mapped[list[WorkflowVersion]] = relationship(
        back_populates="workflow", order_by="WorkflowVersion.version", cascade="all, delete-orphan"
    )

    def keeps_slug(self, name: str) -> bool:
        """May a new version carry ``name``? Its slug must stay this workflow's; the same name
        always may, even if the slug rules changed since the workflow was made."""
        return name == self.name or slugify(name) == self.slug

    def __repr__(self) -> str:
        return f"<Workflow {self.slug} v{self.current_version}>"


class WorkflowVersion(db.Model):
    __tablename__ = "workflow_versions"
    __table_args__ = (
        UniqueConstraint("workflow_id", "version", name="uq_workflow_versions_workflow_id_version"),
        Index("ix_workflow_versions_workflow_id_hash", "workflow_id", "definition_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    version: Mapped[int]
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    definition_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    workflow: Mapped[Workflow] = relationship(back_populates="versions")

    def __repr__(self) -> str:
        return f"<WorkflowVersion {self.workflow_id} v{self.version}>"
