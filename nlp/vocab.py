"""Slots found by vocabulary: category, clinic service, parking kind, wished facility, activity
and shop."""

from __future__ import annotations

import re
from functools import lru_cache

from nlp.resources import lexicon

_PUNCT = re.compile(r"[，,。.！!？?；;、~～\s…]+")
# A clause that ends on one of these says where (在车棚那边), not what is wished for.
_LOCATIVE = re.compile(r"(那边|这边|那儿|这儿|那里|这里|旁边|附近|周边|周围|里面|外面|门口|楼下|边上)$")


def _first_match(text: str, table: dict[str, list[str]]) -> str | None:
    """The first category (in file order) any of whose words occurs in text."""
    for category, words in table.items():
        if any(word in text for word in words):
            return category
    return None


@lru_cache(maxsize=256)  # one per word class: a small cache thrashed on every parse
def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Alternation of words; ASCII words (CT) must not touch other ASCII letters (CCTV)."""
    parts = []
    for word in sorted(words, key=len, reverse=True):
        escaped = re.escape(word)
        parts.append(rf"(?<![A-Za-z]){escaped}(?![A-Za-z])" if word.isascii() else escaped)
    return re.compile("|".join(parts), re.IGNORECASE)


def _earliest_match(text: str, table: dict[str, list[str]]) -> str | None:
    """The category whose word occurs earliest in text (ties: longer word, then file order)."""
    best: tuple[int, int] | None = None
    found = None
    for category, words in table.items():
        m = _word_pattern(tuple(words)).search(text)
        if m and (best is None or (m.start(), -len(m.group(0))) < best):
            best, found = (m.start(), -len(m.group(0))), category
    return found


def _without_ignored(text: str) -> str:
    for word in lexicon().get("category_ignore") or []:
        text = text.replace(word, " ")
    return text


def repair_category(text: str) -> str:
    """Category of a repair message; "other" when no vocabulary word occurs."""
    return _first_match(_without_ignored(text), lexicon()["repair_category"]) or "other"


def complaint_category(text: str) -> str:
    """Category of a complaint message; "other" when no vocabulary word occurs."""
    text = _without_ignored(text)
    table = lexicon()
    return (
        _first_match(text, table["complaint_category"])
        or _first_match(text, table.get("complaint_category_weak") or {})
        or "other"
    )


def service(text: str) -> str | None:
    """Clinic service named in a booking message, if any (a named test or treatment wins
    over a general word such as 社区医院 or 门诊 that merely says where)."""
    table = lexicon()["service"]
    found = _earliest_match(text, table)
    if found == "general":
        specific = _earliest_match(text, {k: v for k, v in table.items() if k != "general"})
        return specific or found
    return found


def parking_kind(text: str) -> str | None:
    """Fixed or temporary parking, if the message says which."""
    return _first_match(text, lexicon()["parking_kind"])


@lru_cache(maxsize=1)
def _facility_patterns() -> tuple[re.Pattern[str], ...]:
    table = lexicon()["facility"]

    def alternation(words: list[str]) -> str:
        return "|".join(map(re.escape, sorted(words, key=len, reverse=True)))

    verbs = re.compile(f"多?(?:{alternation(table['verbs'])})")
    front = re.compile(f"^(?:{alternation(table['strip_front'])})+")
    stop = re.compile(f"(?:{alternation(table['stop'])})")
    lead = re.compile(f"^(?:{alternation(table['lead_in'])})+")
    drop = re.compile(f"(?:{alternation(table['drop'])})")
    lead_verbs = re.compile(f"^(?:多?(?:{alternation(table['verbs'])}))+")
    return verbs, front, stop, lead, drop, lead_verbs


def _clean(phrase: str, front: re.Pattern[str], stop: re.Pattern[str]) -> str:
    phrase = front.sub("", _facility_patterns()[5].sub("", phrase))
    m = stop.search(phrase)
    if m:
        phrase = phrase[: m.start()]
    phrase = phrase.strip("的了呗哈吧")
    # "小区到地铁站的接驳车", "休息的凳子": the head noun follows the last 的.
    head = phrase.rsplit("的", 1)[-1]
    return head if len(head) >= 2 else phrase


def _after_marker(phrase: str) -> str:
    """The part after the last marker (要是, 改成, 几个...): 地库要是多几个充电桩 -> 充电桩."""
    cut = 0
    for m in _marker_pattern().finditer(phrase):
        if len(phrase) - m.end() >= 2:
            cut = max(cut, m.end())
    return phrase[cut:] if cut else phrase


@lru_cache(maxsize=1)
def _marker_pattern() -> re.Pattern[str]:
    words = lexicon()["facility"].get("markers") or []
    return re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))


def facility(text: str) -> str | None:
    """The wished-for facility as a short noun phrase (希望装个自助打印机 -> 自助打印机)."""
    verbs, front, stop, lead, drop, _ = _facility_patterns()
    clauses = [drop.sub("", c) for c in _PUNCT.split(text) if c]
    clauses = [c for c in clauses if c]
    candidates: list[str] = []
    pending = False  # a verb ended the previous clause: "弄个 那个 充电棚"
    for clause in clauses:
        body = lead.sub("", clause)
        if pending and len(body) >= 2:
            candidates.append(_clean(body, front, stop))
            break
        for m in verbs.finditer(body):
            phrase = _clean(body[m.end():], front, stop)
            if phrase:
                candidates.append(phrase)
                break
            pending = m.end() >= len(body.rstrip("个一几些点吧"))
        if candidates:
            break
        if body != clause and len(body) >= 2 and not verbs.search(body) and not _LOCATIVE.search(body):
            # A wish word led the clause in and no verb followed: 想要个露天电影场.
            phrase = _clean(body, front, stop)
            if len(phrase) >= 2:
                candidates.append(phrase)
                break
    if not candidates:
        for clause in clauses:
            phrase = _clean(lead.sub("", clause), front, stop)
            if len(phrase) >= 2:
                candidates.append(phrase)
                break
    if not candidates:
        return None
    phrase = candidates[0]
    if len(phrase) > 5:
        trimmed = _clean(_after_marker(phrase), front, stop)
        if len(trimmed) >= 2:
            phrase = trimmed
    return phrase[:12] if len(phrase) > 12 else phrase


def _alt(words: list[str]) -> str:
    return "|".join(map(re.escape, sorted(words, key=len, reverse=True)))


@lru_cache(maxsize=1)
def _activity_pattern() -> re.Pattern[str]:
    table = lexicon()["activity"]
    names, prefixes, suffixes = (_alt(table[k]) for k in ("names", "prefixes", "suffixes"))
    return re.compile(f"(?:{prefixes})?(?:{names})+(?:{suffixes}){{0,2}}")


def activity(text: str) -> str | None:
    """The activity or club named in an activity_* message (帮我报名周六的书法课 -> 书法课).

    Of several, a name that only qualifies a later one (老年大学的电脑班) gives way to it."""
    found = list(_activity_pattern().finditer(text))
    if not found:
        return None
    pick = found[0]
    for later in found[1:]:
        # 老年大学的电脑班 -> 电脑班; 想学象棋 给他报个象棋班 -> 象棋班
        if text[pick.end():pick.end() + 1] == "的" or later.group(0).startswith(pick.group(0)):
            pick = later
    phrase = pick.group(0)
    for qualifier in lexicon()["activity"].get("qualifiers") or []:
        if phrase.startswith(qualifier) and len(phrase) - len(qualifier) >= 2:
            phrase = phrase[len(qualifier):]  # 老年大学电脑课 -> 电脑课
    return phrase


@lru_cache(maxsize=1)
def _shop_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    table = lexicon()["shop"]
    verbs = _alt(table["verbs"])
    verb_phrase = re.compile(
        rf"(?:{verbs})[\u4e00-\u9fa5]{{1,4}}?(?=(?:{_alt(table['verb_ends'])})|(?:{verbs})|[\s，,。？?]|$)"
    )
    named = re.compile(_alt(table["services"] + table["nouns"]))
    suffixed = re.compile(rf"([\u4e00-\u9fa5]{{1,4}}?)(?:{_alt(table['suffixes'])})")
    return verb_phrase, named, suffixed


def _kind_before_suffix(text: str) -> tuple[int, str] | None:
    """A shop noun ending in 店/铺/馆...: 水果店, 包子铺 (not 那家店): at most two characters of
    kind before the suffix, none of them a determiner or a place word."""
    not_kind = lexicon()["shop"]["not_kind"]
    strip = re.compile(f"^(?:{_alt(not_kind)})+")
    for m in _shop_patterns()[2].finditer(text):
        kind = strip.sub("", strip.sub("", m.group(1).rsplit("的", 1)[-1])[-2:])
        if kind and kind not in not_kind:
            start = m.end(1) - len(kind)
            return start, text[start:m.end()]
    return None


def shop(text: str) -> str | None:
    """The kind of shop or service in a merchant_query message (附近有修鞋的吗 -> 修鞋)."""
    verb_phrase, named, _ = _shop_patterns()
    found: list[tuple[int, int, str]] = []
    m = verb_phrase.search(text)
    if m:
        found.append((m.start(), -len(m.group(0)), m.group(0)))
    m = named.search(text)
    if m:
        found.append((m.start(), -len(m.group(0)), m.group(0)))
    kind = _kind_before_suffix(text)
    if kind:
        overlap = m and m.start() < kind[0] + len(kind[1]) and kind[0] < m.end()
        if overlap and len(kind[1]) > len(m.group(0)):
            found.remove((m.start(), -len(m.group(0)), m.group(0)))  # 干洗店 over 干洗
            overlap = False
        if not overlap:
            found.append((kind[0], -len(kind[1]), kind[1]))  # else the named noun wins
    if not found:
        return None
    return min(found)[2]
