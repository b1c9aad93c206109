"""The console's navigation: one entry per area, shown when the area exists and the user may see it.

Areas add themselves with ``add_nav_item`` while blueprints are registered, so base.html never
lists a page that is not there.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    role: str = "viewer"
    order: int = 100


def add_nav_item(app: Flask, item: NavItem) -> None:
    items = app.extensions.setdefault("flowdeck_nav", [])
    items.append(item)
    items.sort(key=lambda entry: (entry.order, entry.label))


def nav_items() -> list[NavItem]:
    return current_app.extensions.get("flowdeck_nav", [])
