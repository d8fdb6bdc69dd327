"""Pure language code for the residents' bot: `parse(text, now)` -> `Parse`."""

from nlp.parser import Parse, normalize, parse

__all__ = ["Parse", "normalize", "parse"]
