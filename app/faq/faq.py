"""Common questions: staff keep a community's entries; residents' questions are answered from them.

Services flush and never commit; they take a session and plain values (no request, no app).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.community.models import Staff
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.faq import matching
from app.faq.models import MAX_ANSWER, MAX_CATEGORY, MAX_QUESTION, MAX_SYNONYM, MAX_SYNONYMS, FaqEntry

EDITOR_ROLES = ("admin", "property")
_SEPARATORS = str.maketrans({"，": "\n", ",": "\n", "、": "\n", "；": "\n", ";": "\n", "|": "\n"})


def entries(session: Session, community_id: int, *, active_only: bool = True) -> list[FaqEntry]:
    """The community's entries, by category then question; inactive ones too when asked."""
    query = select(FaqEntry).where(FaqEntry.community_id == community_id)
    if active_only:
        query = query.where(FaqEntry.active.is_(True))
    rows = session.scalars(query).all()
    return sorted(rows, key=lambda e: (e.category or "\uffff", e.question, e.id))


def get_entry(session: Session, entry_id: int, community_id: int) -> FaqEntry:
    """One entry of the community (NotFound for another community's)."""
    entry = session.get(FaqEntry, entry_id)
    if entry is None or entry.community_id != community_id:
        raise NotFound("没有找到这条常见问题", code="faq_not_found")
    return entry


def split_synonyms(raw: str | list[str] | None) -> list[str]:
    """Synonyms from a form (one a line, or separated by commas), cleaned and without repeats."""
    parts = raw if isinstance(raw, list) else (raw or "").translate(_SEPARATORS).split("\n")
    seen: list[str] = []
    for part in (p.strip() for p in parts):
        if part and part not in seen:
            seen.append(part)
    return seen


def _clean(question: str, answer: str, synonyms: list[str] | str | None, category: str | None,
           ) -> tuple[str, str, list[str], str | None]:
    question, answer = (question or "").strip(), (answer or "").strip()
    category = (category or "").strip() or None
    if not question or len(question) > MAX_QUESTION:
        raise ValidationFailed(f"请填写问题（{MAX_QUESTION}字以内）", code="bad_question")
    if not answer or len(answer) > MAX_ANSWER:
        raise ValidationFailed(f"请填写回答（{MAX_ANSWER}字以内）", code="bad_answer")
    words = [w for w in split_synonyms(synonyms) if w != question]
    if len(words) > MAX_SYNONYMS or any(len(w) > MAX_SYNONYM for w in words):
        raise ValidationFailed(f"其他问法最多{MAX_SYNONYMS}条，每条{MAX_SYNONYM}字以内", code="bad_synonyms")
    if category is not None and len(category) > MAX_CATEGORY:
        raise ValidationFailed(f"分类请在{MAX_CATEGORY}字以内", code="bad_category")
    return question, answer, words, category


def _same_question(session: Session, community_id: int, question: str, entry_id: int | None = None) -> None:
    query = select(FaqEntry.id).where(FaqEntry.community_id == community_id, FaqEntry.question == question)
    if entry_id is not None:
        query = query.where(FaqEntry.id != entry_id)
    if session.scalar(query.limit(1)) is not None:
        raise Conflict("已有相同的问题，请直接编辑那一条", code="faq_duplicate")


def _flush(session: Session, new: FaqEntry | None = None) -> None:
    try:
        with session.begin_nested():
            if new is not None:
                session.add(new)
            session.flush()
    except IntegrityError:  # a colleague saved the same question a moment ago
        raise Conflict("已有相同的问题，请直接编辑那一条", code="faq_duplicate") from None


def add_entry(session: Session, staff: Staff, *, question: str, answer: str,
              synonyms: list[str] | str | None = None, category: str | None = None) -> FaqEntry:
    """A new active entry for the staff member's community."""
    question, answer, words, category = _clean(question, answer, synonyms, category)
    _same_question(session, staff.community_id, question)
    entry = FaqEntry(community_id=staff.community_id, question=question, answer=answer, synonyms=words,
                     category=category, active=True, updated_by_id=staff.id, updated_at=utcnow())
    _flush(session, entry)
    return entry


def update_entry(session: Session, staff: Staff, entry_id: int, *, question: str, answer: str,
                 synonyms: list[str] | str | None = None, category: str | None = None) -> FaqEntry:
    """Change an entry of the staff member's community."""
    entry = get_entry(session, entry_id, staff.community_id)
    question, answer, words, category = _clean(question, answer, synonyms, category)
    _same_question(session, staff.community_id, question, entry.id)
    entry.question, entry.answer, entry.synonyms, entry.category = question, answer, words, category
    entry.updated_by_id, entry.updated_at = staff.id, utcnow()
    _flush(session)
    return entry


def set_active(session: Session, staff: Staff, entry_id: int, active: bool) -> FaqEntry:
    """Deactivate an entry (residents no longer get it) or bring it back."""
    entry = get_entry(session, entry_id, staff.community_id)
    if entry.active != active:
        entry.active, entry.updated_by_id, entry.updated_at = active, staff.id, utcnow()
        session.flush()
    return entry


def find(session: Session, community_id: int, text: str, *, threshold: float = matching.THRESHOLD,
         ) -> tuple[matching.Match | None, matching.Match | None]:
    """The active entry a message asks about, and a second one close enough to mention."""
    return matching.best(text, entries(session, community_id), threshold)
