"""The console's navigation: one entry per area, shown when the area exists and the user may see it.

Areas add themselves with ``add_nav_item`` while blueprints are registered, so base.html never
lists a page that is not there. The sidebar shows the entries in four fixed groups, in this order.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from webapp.security import has_role

GROUPS = {"operate": "Operate", "resources": "Resources", "admin": "Admin", "account": "Account"}


@dataclass(frozen=True)
class NavItem:
    """One sidebar link.

    ``group`` is one of ``"operate"`` (what runs: Overview, Workflows, Runs, Decompositions),
    ``"resources"`` (what it runs on and spends: Costs, Memory, Workers, Health), ``"admin"``
    (Users, Audit, Mail, Events, Webhooks) or ``"account"`` (the signed-in user's own pages).
    ``order`` sorts the items inside their group; ``role`` is the least role that sees the link.
    """

    label: str
    endpoint: str
    role: str = "viewer"
    order: int = 100
    group: str = "operate"

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValueError(f"unknown navigation group {self.group!r}; expected one of {', '.join(GROUPS)}")


def add_nav_item(app: Flask, item: NavItem) -> None:
    items = app.extensions.setdefault("flowdeck_nav", [])
    items.append(item)
    items.sort(key=lambda entry: (list(GROUPS).index(entry.group), entry.order, entry.label))


def nav_items() -> list[NavItem]:
    return current_app.extensions.get("flowdeck_nav", [])


def nav_groups(user) -> list[tuple[str, list[NavItem]]]:
    """``[(group title, items)]`` of the items ``user`` may see, in group order, empty groups left out."""
    grouped: dict[str, list[NavItem]] = {}
    for item in nav_items():
        if has_role(user, item.role):
            grouped.setdefault(item.group, []).append(item)
    return [(GROUPS[key], grouped[key]) for key in GROUPS if key in grouped]
