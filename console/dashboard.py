"""The overview page's tiles: the console's own (residents, bound) and those features add at init_app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.community.models import STAFF_ROLES, Staff


@dataclass(frozen=True)
class Tile:
    """One count on the overview: shown to `roles`; `endpoint` makes it a link, drawn as needing
    attention when the count is above zero."""

    key: str
    label: str
    count: Callable[[Session, Staff], int]
    roles: tuple[str, ...] = STAFF_ROLES
    endpoint: str | None = None


_tiles: dict[str, Tile] = {}


def add_tile(tile: Tile) -> None:
    """Show a tile on the overview (the same key again replaces it)."""
    _tiles[tile.key] = tile


def tiles_for(role: str) -> list[Tile]:
    """The tiles a staff member with this role sees, in the order they were added."""
    return [tile for tile in _tiles.values() if role in tile.roles]
