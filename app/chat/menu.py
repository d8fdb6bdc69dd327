"""The help menu residents see: each feature adds its lines at init_app."""

from __future__ import annotations

HEADER = "您可以直接发消息告诉我："
_lines: dict[str, tuple[int, str]] = {}


def add_line(key: str, position: int, text: str) -> None:
    """Show `· text` in the help menu at `position` (lower first); the same key again replaces it."""
    _lines[key] = (position, text)


def help_text() -> str:
    """The menu: a header and one line per thing residents can ask for."""
    ordered = sorted(_lines.values())
    return "\n".join([HEADER, *(f"· {text}" for _, text in ordered)])
