"""Pure language code for the residents' bot: `parse(text, now)` -> `Parse` (intent, confidence, slots)."""

from nlp.parser import Parse, parse

__all__ = ["Parse", "parse"]
