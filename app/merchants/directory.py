"""The merchant directory: add and change merchants, hours (open now, next opening), finding them by what a
resident calls them (修鞋, 水果店), and the redeem link's token (issued, looked up, revoked)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, time, timedelta

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.clock import local_now
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.merchants.models import MERCHANT_STATUSES, Merchant

EDITOR_ROLES = ("admin", "property", "committee")
WEEKDAYS = "一二三四五六日"
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_SUFFIX = re.compile(r"(的店|店铺|店|铺|的|摊|行|馆|部|中心)$")
FUZZY = 85


def _t(hhmm: str) -> time:
    return time(int(hhmm[:2]), int(hhmm[3:5]))


def hours_label(m: Merchant) -> str:
    """08:00–20:00（周一休息）; 24 小时."""
    label = "24小时营业" if m.opens == m.closes else f"{m.opens}–{m.closes}"
    return label + (f"（周{WEEKDAYS[m.rest_weekday]}休息）" if m.rest_weekday is not None else "")


def is_open(m: Merchant, at: datetime) -> bool:
    """Whether the merchant is open at an aware Shanghai time."""
    if m.status != "active":
        return False
    opens, closes, now = _t(m.opens), _t(m.closes), at.time().replace(tzinfo=None)
    if opens == closes:
        return m.rest_weekday != at.weekday()
    if opens < closes:
        return m.rest_weekday != at.weekday() and opens <= now < closes
    if now >= opens:  # past midnight: the evening half belongs to today
        return m.rest_weekday != at.weekday()
    return now < closes and m.rest_weekday != (at - timedelta(days=1)).weekday()


def next_opening(m: Merchant, at: datetime) -> datetime | None:
    """The next time (aware Shanghai) an active merchant opens after `at`; None for one not active."""
    if m.status != "active":
        return None
    opens = _t(m.opens)
    for offset in range(8):
        day = (at + timedelta(days=offset)).date()
        moment = datetime.combine(day, opens, tzinfo=at.tzinfo)
        if moment > at and day.weekday() != m.rest_weekday:
            return moment
    return None


def when_label(moment: datetime, at: datetime) -> str:
    """今天 17:00 / 明天 08:00 / 周三 08:00."""
    days = (moment.date() - at.date()).days
    day = {0: "今天", 1: "明天", 2: "后天"}.get(days, f"周{WEEKDAYS[moment.weekday()]}")
    return f"{day} {moment:%H:%M}"


def core_words(phrase: str) -> str:
    """修鞋的 -> 修鞋, 水果店 -> 水果."""
    phrase = (phrase or "").strip()
    return _SUFFIX.sub("", phrase) or phrase


def matches(m: Merchant, phrase: str) -> bool:
    """Whether a merchant is what a resident asked for (its kind, name or keywords)."""
    core = core_words(phrase)
    words = [m.kind, m.name, *(m.keywords or [])]
    return any(core in w or w in phrase or (len(core) >= 2 and fuzz.partial_ratio(core, w) >= FUZZY)
               for w in words if w)


def find(session: Session, community_id: int, phrase: str | None, *, active_only: bool = True) -> list[Merchant]:
    """The community's merchants matching a phrase (all without one), nearest first."""
    query = select(Merchant).where(Merchant.community_id == community_id)
    if active_only:
        query = query.where(Merchant.status == "active")
    rows = list(session.scalars(query.order_by(Merchant.walk_minutes, Merchant.id)))
    return [m for m in rows if matches(m, phrase)] if phrase else rows


def get_merchant(session: Session, merchant_id: int, community_id: int) -> Merchant:
    """A merchant of the community, or NotFound."""
    m = session.get(Merchant, merchant_id)
    if m is None or m.community_id != community_id:
        raise NotFound("没有找到这家商户", code="merchant_not_found")
    return m


def check_fields(fields: dict) -> dict:
    """Cleaned merchant fields (ValidationFailed naming what is wrong)."""
    out = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()}
    if not out.get("name") or len(out["name"]) > 60:
        raise ValidationFailed("请填写商户名称（60字以内）", code="bad_name")
    if not out.get("kind") or len(out["kind"]) > 30:
        raise ValidationFailed("请填写经营类别，如“修鞋”“水果店”", code="bad_kind")
    for key in ("opens", "closes"):
        if not _HHMM.match(out.get(key) or ""):
            raise ValidationFailed("营业时间格式应为 08:00", code="bad_hours")
    if not 0 <= int(out.get("walk_minutes") or 0) <= 60:
        raise ValidationFailed("步行时间请在0到60分钟之间", code="bad_walk_minutes")
    if out.get("rest_weekday") is not None and not 0 <= out["rest_weekday"] <= 6:
        raise ValidationFailed("休息日不对", code="bad_rest_day")
    return out


def add_merchant(session: Session, community_id: int, **fields) -> Merchant:
    """A new active merchant of the community (its licence unverified until staff check it)."""
    fields = check_fields(fields)
    if session.scalar(select(Merchant.id).where(Merchant.community_id == community_id,
                                                Merchant.name == fields["name"])):
        raise Conflict("已有同名商户", code="merchant_duplicate")
    m = Merchant(community_id=community_id, status="active", licence_verified=False, **fields)
    session.add(m)
    session.flush()
    return m


def set_status(session: Session, m: Merchant, status: str) -> Merchant:
    """active, suspended or closed; only an active merchant shows up and redeems."""
    if status not in MERCHANT_STATUSES:
        raise ValidationFailed("没有这种状态", code="bad_status")
    m.status = status
    session.flush()
    return m


def verify_licence(session: Session, m: Merchant, licence_no: str) -> Merchant:
    """Staff checked the business licence (营业执照) and record its number."""
    licence_no = (licence_no or "").strip()
    if not re.fullmatch(r"[0-9A-Z]{15,18}", licence_no):
        raise ValidationFailed("请填写15或18位统一社会信用代码", code="bad_licence")
    m.licence_no, m.licence_verified = licence_no, True
    session.flush()
    return m


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, m: Merchant) -> str:
    """A new redeem-link token for the merchant (the old link stops working); only its hash is kept."""
    token = secrets.token_urlsafe(24)
    m.redeem_token_hash = _hash(token)
    session.flush()
    return token


def revoke_token(session: Session, m: Merchant) -> None:
    """The redeem link stops working."""
    m.redeem_token_hash = None
    session.flush()


def by_token(session: Session, token: str) -> Merchant:
    """The active merchant a redeem link belongs to, or NotFound."""
    if not token or len(token) > 100:
        raise NotFound("链接无效或已失效，请联系社区重新获取", code="bad_redeem_link")
    m = session.scalar(select(Merchant).where(Merchant.redeem_token_hash == _hash(token)))
    if m is None or m.status != "active":
        raise NotFound("链接无效或已失效，请联系社区重新获取", code="bad_redeem_link")
    return m


def local(at: datetime | None = None) -> datetime:
    """An aware Shanghai time (now when none is given)."""
    return at if at is not None else local_now()
