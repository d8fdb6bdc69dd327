"""A found slot span, and masking of found spans so later extractors do not see them again."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A stretch of the message that a pattern extractor consumed."""

    start: int
    end: int
    kind: str  # "plate", "place" or "time"


MARKERS = {"plate": "Ｐ", "place": "Ｂ", "time": "Ｔ"}


def mask(text: str, spans: list[Span]) -> str:
    """Replace each span with a one-character marker of its kind (spans must not overlap)."""
    out: list[str] = []
    pos = 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start < pos:
            continue
        out.append(text[pos:span.start])
        out.append(MARKERS[span.kind])
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def blank(text: str, spans: list[Span]) -> str:
    """Overwrite spans with spaces, keeping offsets, so later regexes skip them."""
    chars = list(text)
    for span in spans:
        for i in range(span.start, span.end):
            chars[i] = " "
    return "".join(chars)
