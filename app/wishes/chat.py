"""Wishes in chat: 希望装个自助打印机 → a catalogue item or free text, similar wishes offered, confirm, create.

Also answers "我提的心愿怎么样了": the ticket_status answer is extended with the resident's wishes
(ticket_chat registers it first; this module registers the combined answer after it).
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from app.chat.conversations import set_dialog, to_naive_utc
from app.chat.dialog.core import Flow, Slot, Turn, proceed, register, register_answer
from app.chat.models import Conversation
from app.community.models import Resident
from app.core.errors import AppError
from app.core.words import WISH_WORDS, names_a_wish
from app.wishes import catalogue as wish_catalogue
from app.wishes import wishes
from app.wishes import withdraw as wish_withdraw
from app.wishes.models import Wish
from app.wishes.wishes import STATUS_LABELS

NOT_BOUND = "许心愿需要先绑定房号，这样邻居们的支持才能按住户统计。请发送“绑定”，按提示完成后再告诉我您的心愿。"
ASK_TITLE = "您希望小区增加什么设施或服务？简单说一下就好，例如“自助打印机”“长椅”“快递柜”。"
SUPPORT_WORDS = frozenset({"支持", "支持这个", "支持它", "加入", "一样", "同一个", "就这个", "好", "好的", "可以", "是",
                           "是的", "对", "嗯"})
NEW_WORDS = frozenset({"新建", "新提", "新的", "单独", "单独提交", "不一样", "不是", "仍然提交", "提交新的",
                       "我要新建"})
SHRUGS = ("不知道", "随便", "没想好", "什么")
RANKING_WORDS = ("排行", "最想要", "热门心愿", "大家想要", "邻居想要", "最受欢迎的心愿")
WITHDRAW_WORDS = ("撤回", "撤销", "收回")
WITHDRAW_COMMAND = re.compile(r"(?:撤回|撤销|收回)(?:我的)?心愿\s*#?(\d{1,9})\s*(.*)")
STATUS_WORDS = ("进展", "进度", "怎么样", "结果", "到哪", "如何", "状态", "有消息", "批了", "通过了")


def _guard(turn: Turn) -> str | None:
    return NOT_BOUND if turn.resident is None else None


def _fill(turn: Turn, phrase: str | None) -> None:
    """Set title and catalogue item from a facility phrase (item name when the match is confident)."""
    phrase = (phrase or "").strip()
    item = wish_catalogue.match_item(turn.session, turn.resident.community_id, phrase) if phrase else None
    turn.slots["item_id"] = item.id if item else None
    turn.slots["title"] = item.name if item else (phrase[:50] or None)


def _begin(turn: Turn) -> dict:
    slots = dict(getattr(turn.parsed, "slots", None) or {})
    turn.slots = {"description": turn.text, "building": None}
    _fill(turn, slots.get("facility"))
    if turn.slots["item_id"] is None:  # the parser's phrase may be partial; the whole message can still name an item
        item = wish_catalogue.match_item(turn.session, turn.resident.community_id, turn.text)
        if item is not None:
            turn.slots["item_id"], turn.slots["title"] = item.id, item.name
    return turn.slots


def _extract_title(turn: Turn) -> str | None:
    parsed_facility = (getattr(turn.parsed, "slots", None) or {}).get("facility")
    text = (parsed_facility or turn.text).strip()
    if not (2 <= len(text) <= 50) or any(s in text for s in SHRUGS) \
            or not any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return None
    _fill(turn, text)
    if turn.slots["description"] in (None, ""):
        turn.slots["description"] = turn.text
    return turn.slots["title"]


def _line(wish: Wish) -> str:
    if wish.status == "collecting":
        return (f"「{wish.title}」{STATUS_LABELS[wish.status]}，已有{wish.supports_count}人支持"
                f"（满{wish.threshold}人提交业委会审议）")
    progress = f"，完成{wish.progress}%" if wish.status == "in_progress" else ""
    return f"「{wish.title}」{STATUS_LABELS[wish.status]}，{wish.supports_count}人支持{progress}"


def _review(turn: Turn) -> str | None:
    """Open wishes for the same thing: offer to support one of them instead of opening a duplicate."""
    found = wishes.similar_wishes(turn.session, turn.resident.community_id, title=turn.slots["title"],
                                  item_id=turn.slots.get("item_id"))
    if not found:
        return None
    turn.slots["similar"] = [w.id for w in found]
    turn.goto("similar")
    return _similar_prompt(turn)


def _similar_prompt(turn: Turn) -> str:
    rows = [w for w in (turn.session.get(Wish, i) for i in turn.slots.get("similar") or []) if w is not None]
    if len(rows) == 1:
        return (f"邻居已经提过类似的心愿：{_line(rows[0])}。\n"
                "回复“支持”为这个心愿加一票，进展会通知您；回复“新建”仍提交您自己的心愿。")
    lines = [f"{i}. {_line(w)}" for i, w in enumerate(rows, 1)]
    return ("邻居已经提过类似的心愿：\n" + "\n".join(lines) +
            "\n回复序号（如“1”）支持对应的心愿，进展会通知您；回复“新建”仍提交您自己的心愿。")


def _similar_step(turn: Turn) -> str | None:
    ids = list(turn.slots.get("similar") or [])
    text = turn.text.strip()
    chosen = None
    if text.isdigit() and 1 <= int(text) <= len(ids):
        chosen = ids[int(text) - 1]
    elif text in SUPPORT_WORDS or text.startswith("支持"):
        chosen = ids[0] if ids else None
    if chosen is not None:
        set_dialog(turn.conversation, flow=None, form=None)
        wish = turn.session.get(Wish, chosen)
        if wish is None or not wish.is_open:
            return "这个心愿刚刚结束了征集。您可以重新说一下您的心愿，我来帮您提交。"
        added = wishes.support(turn.session, wish, turn.resident, now=to_naive_utc(turn.now))
        set_dialog(turn.conversation, last_wish={"id": wish.id})
        head = f"已为您支持心愿「{wish.title}」" if added else f"您之前已经支持过心愿「{wish.title}」了"
        return f"{head}，目前{wish.supports_count}人支持，{_next_step(wish)}\n有进展会第一时间通知您。"
    if text in NEW_WORDS:
        return proceed(WISH_FLOW, turn)
    return None


def _next_step(wish: Wish) -> str:
    if wish.status == "collecting":
        return f"还差{max(0, wish.threshold - wish.supports_count)}人即可提交业委会审议。"
    return f"心愿{STATUS_LABELS[wish.status]}。"


def _confirm(turn: Turn) -> str:
    item = wish_catalogue.get_item(turn.session, turn.slots["item_id"], turn.resident.community_id) \
        if turn.slots.get("item_id") else None
    detail = ""
    if item is not None:
        facts = "；".join(x for x in (item.typical_space, item.typical_cost, item.serves and f"适合{item.serves}") if x)
        detail = f"\n设施目录：{item.name}（{facts}）" if facts else f"\n设施目录：{item.name}"
    threshold = wishes.threshold_for(turn.session, turn.resident.community_id)
    return (f"好的，我帮您提交一个心愿：\n心愿：{turn.slots['title']}{detail}\n"
            f"提交后邻居们可以一起支持，满{threshold}人即提交业委会审议。\n"
            "确认提交请回复“确认”，不对请回复“取消”。")


def _complete(turn: Turn) -> str:
    wish = wishes.create_wish(turn.session, turn.resident, title=turn.slots["title"],
                              item_id=turn.slots.get("item_id"), description=turn.slots.get("description") or "",
                              source=turn.channel, now=to_naive_utc(turn.now))
    set_dialog(turn.conversation, last_wish={"id": wish.id})
    return (f"心愿「{wish.title}」已提交（编号{wish.id}），您是第1位支持者。"
            f"{_next_step(wish)}\n邀请邻居在小程序“心愿”里支持它；想了解进展，随时发“我提的心愿怎么样了”。")


WISH_FLOW = register(Flow(
    name="wish", intents=("wish",), slots=(Slot("title", ASK_TITLE, _extract_title),),
    begin=_begin, confirm=_confirm, complete=_complete, guard=_guard, review=_review,
    steps={"similar": _similar_step}, step_prompts={"similar": _similar_prompt},
))


# ---- status ------------------------------------------------------------------------------------

def status_reply(session: Session, resident: Resident | None) -> str:
    """The wishes the resident made, supports or follows, and where each stands."""
    if resident is None:
        return "查询心愿进展需要先绑定房号：发送“绑定”，按提示完成即可。"
    rows = wishes.wishes_for_resident(session, resident, limit=5)
    if not rows:
        return "您还没有提过或支持过心愿。想让小区增加什么，直接告诉我，例如“希望装个自助打印机”。"
    lines = [f"您关注的心愿（{len(rows)}个）："]
    lines += [f"{i}. {_line(w)}" + (f"（{wish_withdraw.reason_label(w)}）"
                                    if w.status in ("rejected", "withdrawn") and w.reason else "")
              for i, w in enumerate(rows, 1)]
    if any(w.status == "completed" for w in rows):
        lines.append("已建成的设施欢迎在小程序里打分评价。")
    return "\n".join(lines)


def asks_status(text: str) -> bool:
    """Whether a message the parser did not place asks how one's wishes stand (我的心愿有进展吗)."""
    return any(w in text for w in WISH_WORDS) and any(w in text for w in STATUS_WORDS)


def asks_withdraw(text: str) -> bool:
    """Whether the message asks to withdraw one's own wish (撤回我的心愿), not a support (撤回支持)."""
    return any(w in text for w in WITHDRAW_WORDS) and any(w in text for w in WISH_WORDS) and "支持" not in text


def withdraw_reply(session: Session, resident: Resident | None, text: str) -> str:
    """撤回我的心愿 lists the resident's withdrawable wishes; 撤回心愿12 不可行 位置不够 withdraws one."""
    if resident is None:
        return "撤回心愿需要先绑定房号：发送“绑定”，按提示完成即可。"
    reasons = "、".join(wish_withdraw.REASONS.values())
    command = WITHDRAW_COMMAND.search(text)
    if command is None:
        rows = [w for w in wishes.wishes_for_resident(session, resident, limit=50)
                if wish_withdraw.can_withdraw(w, resident)][:5]
        if not rows:
            return "您没有可以撤回的心愿：只有您自己提出、还在征集支持或审议中的心愿才能撤回。"
        lines = ["您可以撤回的心愿："] + [f"编号{w.id}：{_line(w)}" for w in rows]
        lines.append(f"回复“撤回心愿+编号+原因”，例如“撤回心愿{rows[0].id} 已解决”。原因可选：{reasons}。")
        return "\n".join(lines)
    rest = command.group(2).strip()
    code = next((c for c, label in wish_withdraw.REASONS.items() if rest.startswith(label)), None)
    if code is None:
        return f"请说明撤回的原因（{reasons}），例如“撤回心愿{command.group(1)} 已解决”。"
    note = rest[len(wish_withdraw.REASONS[code]):].strip(" ，,。：:")
    try:
        wish = wish_withdraw.withdraw(session, int(command.group(1)), resident, code, note)
    except AppError as err:
        return err.message
    return f"心愿「{wish.title}」已撤回（{wish_withdraw.reason_label(wish)}），支持和关注它的邻居会收到通知。"


def weak_fallback(session: Session, _conversation: Conversation, resident: Resident | None, text: str,
                  _now: datetime, weak: bool) -> str | None:
    """When the parser is unsure, wish words still get their answer (撤回我提的心愿 reads as a weak
    ticket_status)."""
    return answer_by_words(session, resident, text) if weak else None


def answer_by_words(session: Session, resident: Resident | None, text: str) -> str | None:
    """Wish questions the parser leaves out of scope: 我的心愿有进展吗, 心愿排行榜 / 大家最想要什么,
    撤回我的心愿; else None."""
    if asks_withdraw(text):
        return withdraw_reply(session, resident, text)
    if any(w in text for w in RANKING_WORDS):
        return rankings_reply(session, resident)
    if asks_status(text):
        return status_reply(session, resident)
    return None


def rankings_reply(session: Session, resident: Resident | None) -> str:
    """What the neighbours want: the most-supported open wishes, and in the resident's own building."""
    if resident is None:
        return "查看小区心愿需要先绑定房号：发送“绑定”，按提示完成即可。"
    top = wishes.rankings(session, resident.community_id, limit=5)
    if not top:
        return "小区里还没有正在征集的心愿。想让小区增加什么，直接告诉我，例如“希望装个自助打印机”。"
    lines = ["邻居们最想要的（按支持人数）："]
    lines += [f"{i}. 「{w.title}」{n}人支持，{STATUS_LABELS[w.status]}" for i, (w, n) in enumerate(top, 1)]
    household = resident.household
    if household is not None:
        building = household.unit.building.number
        mine = wishes.rankings(session, resident.community_id, building=building, limit=3)
        if mine:
            lines.append(f"{building}幢的邻居最想要：" + "、".join(f"「{w.title}」{n}人" for w, n in mine))
    lines.append("回复您的心愿即可支持或新建，例如“希望装个快递柜”。")
    return "\n".join(lines)


def _status(turn: Turn) -> str | None:
    """The wishes' part of 我的进度: always when the message names a wish, else only with open wishes
    (the tickets' part comes first and stays out when a wish is named)."""
    if names_a_wish(turn.text):
        return status_reply(turn.session, turn.resident)
    if turn.resident is not None and wishes.wishes_for_resident(turn.session, turn.resident, open_only=True, limit=1):
        return status_reply(turn.session, turn.resident)
    return None


register_answer("ticket_status", _status)
