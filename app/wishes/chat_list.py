"""Wishes in chat outside a draft: the community's top wishes listed (有哪些心愿 / 心愿榜), and one
supported by name or number (支持打印机那个 / 我也想要自助打印机 / 支持2 right after the list).

The list is remembered on the conversation ({"wish_list": {"ids": [...], "at": iso}}) for
LIST_MINUTES, so a number sent after it names a wish of that list.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from app.chat.conversations import set_dialog, to_naive_utc
from app.chat.dialog import IDLE_MINUTES
from app.chat.models import Conversation
from app.community.models import Resident
from app.core.errors import AppError
from app.core.words import names_a_wish
from app.wishes import catalogue as wish_catalogue
from app.wishes import wishes
from app.wishes.models import Wish
from app.wishes.wishes import STATUS_LABELS

LIST_MINUTES = IDLE_MINUTES  # a number sent this long after the list still names one of its wishes
LIST_SIZE = 5
RANKING_WORDS = ("排行", "最想要", "热门心愿", "大家想要", "邻居想要", "最受欢迎的心愿", "心愿榜", "愿望榜",
                 "许了什么愿", "许了哪些愿", "许的什么愿")
LIST_WORDS = ("哪些", "什么", "列表", "清单", "都有", "看看", "大家", "邻居", "全部", "所有")
MINE_WORDS = ("我的", "我提", "我许", "我支持", "我关注", "我发")
PEOPLE = "你您我他她"
QUESTION_WORDS = ("吗", "么", "哪些", "什么", "怎么", "几个", "多少", "是否", "能不能", "可以")
NOT_BOUND = "支持心愿需要先绑定房号，这样支持才能按住户统计。请发送“绑定”，按提示完成即可。"
HOW_TO_SUPPORT = "回复序号（如“1”）或“支持+名称”（如“支持{title}”）为心愿加一票，进展会通知您。"
CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}

ORDINAL = re.compile(r"^第?\s*(\d{1,2}|[一二两三四五六七八九十])\s*(?:个|号|条|项)?(?:心愿|吧|呀|啊)?$")
SUPPORT = re.compile(r"^(?:那|那就|那我|就)?(?:我也|我|也)?(?:要|想|想要|愿意)?(?:支持|投票给)(?:一下|下|一票)?"
                     r"\s*(.*)$")
VOTE = re.compile(r"^(?:我|我也)?(?:给|为|帮)(.+?)(?:投|加|点|补)(?:上)?(?:一|1)?票$")
ALSO_WANT = re.compile(r"^(?:我|俺|我们|我家)?(?:也|同样|一样)(?:很)?(?:想要|想|要|希望|盼着|支持)"
                       r"(?:有|装|建|弄|搞|增加|加)?(?:个|一个|一台|台)?(.+)$")
TRAILERS = ("那个心愿", "这个心愿", "的心愿", "心愿", "那一个", "这一个", "那个", "这个", "一票", "一下", "吧", "呀",
            "啊", "哈", "的")


# ---- reading the message -------------------------------------------------------------------------

def ordinal(text: str) -> int | None:
    """The number a message names (2, 第2个, 第二个), or None."""
    found = ORDINAL.match((text or "").strip())
    if found is None:
        return None
    value = found.group(1)
    return int(value) if value.isdigit() else CN_DIGITS[value]


def _clean_name(name: str) -> str:
    name = name.strip(" ，,。.！!“”\"'「」")
    changed = True
    while changed and name:
        changed = False
        for tail in TRAILERS:
            if name.endswith(tail) and len(name) > len(tail):
                name, changed = name[: -len(tail)].strip(), True
    return name.strip(" ，,。.！!“”\"'「」")


def read_support(text: str) -> tuple[int | None, str | None] | None:
    """A request to support a wish: (number, None) for 支持2, (None, name) for 支持打印机那个 / 给X投一票,
    (None, None) for a bare 支持; None when the message is not one."""
    text = (text or "").strip()
    found = SUPPORT.match(text) or VOTE.match(text)
    if found is None:
        return None
    rest = _clean_name(found.group(1))
    if any(w in rest for w in QUESTION_WORDS) or any(ch in rest for ch in PEOPLE) or len(rest) > 20:
        return None  # 支持微信支付吗 / 我支持你们的工作: a question or a person, not a wish
    if not rest:
        return None, None
    number = ordinal(rest)
    return (number, None) if number is not None else (None, rest)


def read_also_want(text: str, parsed=None) -> str | None:
    """The wish named by 我也想要自助打印机 / 我也要快递柜 (the parser's facility when it found one), or None."""
    found = ALSO_WANT.match((text or "").strip())
    if found is None:
        return None
    facility = ((getattr(parsed, "slots", None) or {}).get("facility") or "").strip()
    return facility or _clean_name(found.group(1)) or None


# ---- finding wishes ------------------------------------------------------------------------------

def find_named(session: Session, community_id: int, name: str, among: list[int] | None = None) -> list[Wish]:
    """Open wishes a name points to, as the similar-wish search finds them; one exact title wins, and the
    wishes in `among` (those just shown) are preferred."""
    name = (name or "").strip()
    if not name:
        return []
    item = wish_catalogue.match_item(session, community_id, name)
    found = wishes.similar_wishes(session, community_id, title=name, item_id=item.id if item else None,
                                  limit=LIST_SIZE)
    if among:
        shown = [w for w in found if w.id in among]
        found = shown or found
    exact = [w for w in found if w.title == name]
    return exact if len(exact) == 1 else found


def remember_list(conversation: Conversation, ids: list[int], now: datetime) -> None:
    """Keep the wishes just shown, numbered, so that a number sent next names one."""
    set_dialog(conversation, wish_list={"ids": list(ids), "at": now.isoformat()})


def shown_list(conversation: Conversation, now: datetime) -> list[int]:
    """The ids of the wishes listed in the last LIST_MINUTES, or []."""
    shown = (conversation.dialog or {}).get("wish_list") or {}
    try:
        at = datetime.fromisoformat(shown.get("at") or "")
    except ValueError:
        return []
    if (at.tzinfo is None) != (now.tzinfo is None):
        at, now = at.replace(tzinfo=None), now.replace(tzinfo=None)
    if not 0 <= (now - at).total_seconds() <= LIST_MINUTES * 60:
        return []
    return [int(i) for i in shown.get("ids") or []]


# ---- replies -------------------------------------------------------------------------------------

def next_step(wish: Wish) -> str:
    """What the wish waits for next, in a resident's words."""
    if wish.status == "collecting":
        return f"还差{max(0, wish.threshold - wish.supports_count)}人即可提交业委会审议。"
    return f"心愿{STATUS_LABELS[wish.status]}。"


def support_reply(session: Session, conversation: Conversation, resident: Resident, wish: Wish | None,
                  now: datetime) -> str:
    """Support the wish through the service the API uses (once per resident) and say where it stands."""
    if wish is None or wish.community_id != resident.community_id or not wish.is_open:
        return "这个心愿已经结束了征集。发“有哪些心愿”看看大家正在征集的心愿。"
    try:
        added = wishes.support(session, wish, resident, now=to_naive_utc(now))
    except AppError as err:
        return err.message
    set_dialog(conversation, last_wish={"id": wish.id})
    if added:
        return (f"已为您支持心愿「{wish.title}」，目前{wish.supports_count}人支持，{next_step(wish)}\n"
                "有进展会第一时间通知您。")
    if wish.resident_id == resident.id:
        return (f"心愿「{wish.title}」是您自己提的，您已经是它的支持者了（每户一票），目前{wish.supports_count}人支持，"
                f"{next_step(wish)}")
    return (f"您之前已经支持过心愿「{wish.title}」了，每位住户支持一次就好，谢谢您！"
            f"目前{wish.supports_count}人支持，{next_step(wish)}")


def _row(wish: Wish) -> str:
    return f"「{wish.title}」{wish.supports_count}人支持，{STATUS_LABELS[wish.status]}"


def ask_which(conversation: Conversation, rows: list[Wish], name: str, now: datetime) -> str:
    """Several wishes fit the name: list them numbered and remember the list."""
    remember_list(conversation, [w.id for w in rows], now)
    lines = [f"和“{name}”相近的心愿有{len(rows)}个，您想支持哪一个？"]
    lines += [f"{i}. {_row(w)}" for i, w in enumerate(rows, 1)]
    lines.append("回复序号（如“1”）支持对应的心愿。")
    return "\n".join(lines)


def not_found(name: str) -> str:
    """No open wish fits the name."""
    return (f"没有找到和“{name}”相近的正在征集的心愿。发“有哪些心愿”看看大家的心愿；"
            f"想自己提这个心愿，就说“希望小区有{name}”。")


def names_ranking(text: str) -> bool:
    """心愿榜 / 排行 / 大家想要 / 许了什么愿: the community's wishes by name."""
    return any(w in text for w in RANKING_WORDS)


def asks_list(text: str) -> bool:
    """Whether the message asks what the community wishes for (有哪些心愿 / 大家都许了什么愿 / 心愿榜)."""
    if names_ranking(text):
        return True
    speaks_of_wishes = names_a_wish(text) or "许愿" in text or "愿望" in text
    return speaks_of_wishes and any(w in text for w in LIST_WORDS) and not any(w in text for w in MINE_WORDS)


def asks_mine(text: str) -> bool:
    """我支持的心愿有哪些 / 我提了什么心愿: the resident's own wishes, not the community's."""
    return names_a_wish(text) and any(w in text for w in MINE_WORDS) and any(w in text for w in LIST_WORDS)


def list_reply(session: Session, conversation: Conversation | None, resident: Resident | None,
               now: datetime) -> str:
    """The community's most-supported open wishes, numbered with stage and supports, and how to support one."""
    if resident is None:
        return "查看小区心愿需要先绑定房号：发送“绑定”，按提示完成即可。"
    top = [w for w, _ in wishes.rankings(session, resident.community_id, limit=LIST_SIZE)]
    if not top:
        return "小区里还没有正在征集的心愿。想让小区增加什么，直接告诉我，例如“希望装个自助打印机”。"
    mine = wishes.supported_among(session, resident.id, [w.id for w in top])
    lines = ["邻居们的心愿（按支持人数）："]
    lines += [f"{i}. {_row(w)}" + ("（您已支持）" if w.id in mine else "") for i, w in enumerate(top, 1)]
    household = resident.household
    if household is not None:
        building = household.unit.building.number
        nearby = wishes.rankings(session, resident.community_id, building=building, limit=3)
        if nearby:
            lines.append(f"{building}幢的邻居最想要：" + "、".join(f"「{w.title}」{n}人" for w, n in nearby))
    lines.append(HOW_TO_SUPPORT.format(title=top[0].title))
    lines.append("想提新的心愿，直接告诉我，例如“希望装个快递柜”。")
    if conversation is not None:
        remember_list(conversation, [w.id for w in top], now)
    return "\n".join(lines)


def support_by_words(session: Session, conversation: Conversation, resident: Resident | None, text: str,
                     now: datetime) -> str | None:
    """支持打印机那个 / 我也支持X / 给X投一票 / 支持2 or 2 right after a list / 我也要快递柜, outside a draft;
    None when the message is none of these."""
    shown = shown_list(conversation, now)
    number = ordinal(text) if shown else None
    command = (number, None) if number is not None else read_support(text)
    also = read_also_want(text) if command is None else None
    if command is None and also is None:
        return None
    if resident is None:
        return NOT_BOUND
    number, name = command if command is not None else (None, also)
    if command is not None and name is None:
        if not shown:
            return "您想支持哪个心愿？先发“有哪些心愿”看看大家的心愿，再回复序号；也可以直接说“支持+名称”。"
        if number is None:
            return f"您想支持哪一个？回复序号（1到{len(shown)}）即可。"
        if not 1 <= number <= len(shown):
            return f"刚才的列表只有{len(shown)}个心愿，请回复1到{len(shown)}之间的序号。"
        return support_reply(session, conversation, resident, session.get(Wish, shown[number - 1]), now)
    rows = find_named(session, resident.community_id, name, among=shown)
    if len(rows) == 1:
        return support_reply(session, conversation, resident, rows[0], now)
    if rows:
        return ask_which(conversation, rows, name, now)
    return not_found(name) if command is not None else None  # 我也要X with no such wish: not ours to answer
