"""The console's navigation: one list, in display order, that later sections append to."""

from __future__ import annotations

from dataclasses import dataclass

from app.community.models import STAFF_ROLES


@dataclass(frozen=True)
class NavItem:
    """One link in the console's menu, shown only to the roles listed."""

    endpoint: str
    label: str
    roles: tuple[str, ...] = STAFF_ROLES


NAV: list[NavItem] = [
    NavItem("console.dashboard", "概览"),
    NavItem("console.bindings", "绑定审核", ("admin", "property")),
    NavItem("console.residents", "住户", ("admin", "property")),
]


def add_nav(endpoint: str, label: str, roles: tuple[str, ...] = STAFF_ROLES) -> None:
    """Append a section to the menu (once; calling again for the same endpoint does nothing)."""
    if all(item.endpoint != endpoint for item in NAV):
        NAV.append(NavItem(endpoint, label, tuple(roles)))


def nav_for(role: str) -> list[NavItem]:
    """The menu items a staff member with this role sees."""
    return [item for item in NAV if role in item.roles]
