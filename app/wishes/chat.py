"""Wishes in chat: 希望装个自助打印机 → a catalogue item or free text, similar wishes offered, confirm, create.

Inside the similar-wish prompt: 支持 / 序号 / 我也支持X support, 新建 goes on, a different wish starts
that wish, anything else is re-asked once. The list (有哪些心愿) and support by name outside a draft
are in chat_list.

Also answers "我提的心愿怎么样了": the ticket_status answer is extended with the resident's wishes
(ticket_chat registers it first; this module registers the combined answer after it).
"""

from __future__ import annotations

import re
from datetime import datetime

from rapidfuzz import fuzz
from sqlalchemy.orm import Session

from app.chat.conversations import set_dialog, to_naive_utc
from app.chat.dialog import START_CONFIDENCE
from app.chat.dialog.core import Flow, Slot, Turn, end, proceed, register, register_answer, save
from app.chat.models import Conversation
from app.community.models import Resident
from app.core.clock import local_now
from app.core.errors import AppError
from app.core.words import WISH_WORDS, names_a_wish
from app.wishes import catalogue as wish_catalogue
from app.wishes import chat_list, wishes
from app.wishes import withdraw as wish_withdraw
from app.wishes.models import Wish
from app.wishes.wishes import SIMILAR_SCORE, STATUS_LABELS
from nlp import parse

NOT_BOUND = "许心愿需要先绑定房号，这样邻居们的支持才能按住户统计。请发送“绑定”，按提示完成后再告诉我您的心愿。"
ASK_TITLE = "您希望小区增加什么设施或服务？简单说一下就好，例如“自助打印机”“长椅”“快递柜”。"
SUPPORT_WORDS = frozenset({"支持", "支持这个", "支持它", "加入", "一样", "同一个", "就这个", "好", "好的", "可以", "是",
                           "是的", "对", "嗯"})
NEW_WORDS = frozenset({"新建", "新提", "新的", "单独", "单独提交", "不一样", "不是", "仍然提交", "提交新的",
                       "我要新建"})
SHRUGS = ("不知道", "随便", "没想好", "什么")
WITHDRAW_WORDS = ("撤回", "撤销", "收回")
WITHDRAW_COMMAND = re.compile(r"(?:撤回|撤销|收回)(?:我的)?心愿\s*#?(\d{1,9})\s*(.*)")
STATUS_WORDS = ("进展", "进度", "怎么样", "结果", "到哪", "如何", "状态", "有消息", "批了", "通过了")
LET_GO = ("好的，这个心愿先不提交了。想支持邻居的心愿，说“支持+名称”；想看大家的心愿，发“有哪些心愿”；"
          "想提新的心愿，直接告诉我。")


def _guard(turn: Turn) -> str | None:
    """Unbound: ask to bind. 我也想要自助打印机 when exactly one open wish is that: support it instead of
    drafting a new one (several: the draft's similar-wish prompt lists them)."""
    if turn.resident is None:
        return NOT_BOUND
    name = chat_list.read_also_want(turn.text, turn.parsed)
    if not name:
        return None
    rows = chat_list.find_named(turn.session, turn.resident.community_id, name)
    if len(rows) != 1:
        return None
    return chat_list.support_reply(turn.session, turn.conversation, turn.resident, rows[0], turn.now)


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


# 不是这个，/ 不对，是 / 都不是，我想要: a refusal before what the resident does want
_REFUSAL = re.compile(r"^(?:哦|噢)?[，, ]*(?:不是这个|不是这些|都不是|不对|不是)[，, 。]+(?:是|应该是)?")


def _without_refusal(turn: Turn) -> str | None:
    """The words after a refusal (不是这个，我想要一个儿童滑滑梯 → 我想要一个儿童滑滑梯), reparsed into the turn;
    None when the message does not start with one."""
    found = _REFUSAL.match(turn.text)
    rest = turn.text[found.end():].strip("，,。 ") if found else ""
    if len(rest) < 2:
        return None
    turn.text, turn.parsed = rest, parse(rest, now=turn.now)
    return rest


def _amend(turn: Turn) -> str | None:
    """At the confirm step, 不对，是羽毛球场 renames the wish; anything else is not about the draft."""
    if _without_refusal(turn) is None:
        return None
    _fill(turn, (turn.parsed.slots.get("facility") if turn.parsed else None) or turn.text)
    turn.slots["description"] = turn.text
    return f"好的，心愿已改为“{turn.slots['title']}”"


def _similar_step(turn: Turn) -> str | None:
    """The answer to the similar-wish prompt: support one, go on with the new wish, or start a different one."""
    _without_refusal(turn)  # 不是这个，我想要X: X is the answer
    ids = list(turn.slots.get("similar") or [])
    text = turn.text.strip()
    number = chat_list.ordinal(text)
    command = (number, None) if number is not None else chat_list.read_support(text)
    name = chat_list.read_also_want(text, turn.parsed) if command is None else command[1]
    if text in SUPPORT_WORDS or command == (None, None):
        return _support(turn, ids[0] if ids else None)
    if command is not None and command[0] is not None:
        return _support(turn, ids[command[0] - 1]) if 1 <= command[0] <= len(ids) else None
    if name:
        rows = chat_list.find_named(turn.session, turn.resident.community_id, name, among=ids)
        if len(rows) == 1:
            return _support(turn, rows[0].id)
        if rows:  # several fit the name: ask again among them
            turn.slots["similar"] = [w.id for w in rows]
            save(WISH_FLOW, turn)
            return _similar_prompt(turn)
    if text in NEW_WORDS:
        return proceed(WISH_FLOW, turn)
    if _another_wish(turn, ids):
        return _start_another(turn)
    if command is not None and name:
        return f"{chat_list.not_found(name)}\n\n{_similar_prompt(turn)}"
    if int(((turn.conversation.dialog or {}).get("form") or {}).get("reasks") or 0) >= 1:
        end(turn.conversation)  # asked again already: the resident has moved on; nothing is submitted
        return LET_GO
    return None


def _support(turn: Turn, wish_id: int | None) -> str:
    end(turn.conversation)
    wish = turn.session.get(Wish, wish_id) if wish_id is not None else None
    if wish is None or not wish.is_open:
        return "这个心愿刚刚结束了征集。您可以重新说一下您的心愿，我来帮您提交。"
    return chat_list.support_reply(turn.session, turn.conversation, turn.resident, wish, turn.now)


def _another_wish(turn: Turn, ids: list[int]) -> bool:
    """Whether the message is clearly a different wish: parsed as a wish whose facility is neither the
    draft's nor one of the wishes offered."""
    parsed = turn.parsed
    if getattr(parsed, "intent", None) != "wish" or float(getattr(parsed, "confidence", 0) or 0) < START_CONFIDENCE:
        return False
    facility = ((getattr(parsed, "slots", None) or {}).get("facility") or "").strip()
    if len(facility) < 2:
        return False
    item = wish_catalogue.match_item(turn.session, turn.resident.community_id, facility)
    if item is not None and item.id == turn.slots.get("item_id"):
        return False
    titles = [turn.slots.get("title") or ""] + [w.title for w in (turn.session.get(Wish, i) for i in ids) if w]
    return all(fuzz.partial_ratio(facility, title) < SIMILAR_SCORE for title in titles if title)


def _start_another(turn: Turn) -> str:
    """Drop the draft and start the wish this message makes, as if it had come first."""
    _begin(turn)
    head = f"好的，换成新的心愿「{turn.slots['title']}」。"
    offered = _review(turn)
    if offered is not None:
        save(WISH_FLOW, turn)
        return f"{head}\n{offered}"
    return f"{head}\n{proceed(WISH_FLOW, turn)}"


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
            f"{chat_list.next_step(wish)}\n邀请邻居在小程序“心愿”里支持它；想了解进展，随时发“我提的心愿怎么样了”。")


WISH_FLOW = register(Flow(
    name="wish", intents=("wish",), label="心愿", slots=(Slot("title", ASK_TITLE, _extract_title),),
    begin=_begin, confirm=_confirm, complete=_complete, guard=_guard, review=_review,
    steps={"similar": _similar_step}, step_prompts={"similar": _similar_prompt}, amend=_amend,
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


def weak_fallback(session: Session, conversation: Conversation, resident: Resident | None, text: str,
                  now: datetime, weak: bool) -> str | None:
    """When the parser is unsure, wish words still get their answer (撤回我提的心愿 reads as a weak
    ticket_status; 有哪些心愿 and 支持打印机那个 as out of scope)."""
    return answer_by_words(session, resident, text, conversation, now) if weak else None


def answer_by_words(session: Session, resident: Resident | None, text: str, conversation: Conversation | None = None,
                    now: datetime | None = None) -> str | None:
    """Wish questions the parser leaves out of scope: 我的心愿有进展吗, 有哪些心愿 / 心愿榜 / 大家最想要什么,
    撤回我的心愿, 支持打印机那个 / 支持2; else None."""
    if asks_withdraw(text):
        return withdraw_reply(session, resident, text)
    if chat_list.asks_mine(text) or (asks_status(text) and not chat_list.names_ranking(text)):
        return status_reply(session, resident)
    if chat_list.asks_list(text):
        return chat_list.list_reply(session, conversation, resident, now or local_now())
    if conversation is not None and now is not None:
        return chat_list.support_by_words(session, conversation, resident, text, now)
    return None


_NAMED = re.compile(r"^(?:我想问问?|请问|问一下)?(.{2,20}?)(?:那个|这个)?的?(?:心愿|愿望)")


def _named_status(turn: Turn) -> str | None:
    """北门花园长椅的心愿进展到哪一步了: where the wishes that name points to stand (None when it points nowhere)."""
    found = _NAMED.match(turn.text)
    if found is None or turn.resident is None:
        return None
    name = found.group(1).strip("，, 的")
    rows = chat_list.find_named(turn.session, turn.resident.community_id, name)
    if not rows:
        return None
    return "\n".join(f"{i}. {_line(w)}" for i, w in enumerate(rows[:3], 1)) if len(rows) > 1 else _line(rows[0])


def _status(turn: Turn) -> str | None:
    """The wishes' part of 我的进度: always when the message names a wish, else only with open wishes
    (the tickets' part comes first and stays out when a wish is named)."""
    if names_a_wish(turn.text):
        return _named_status(turn) or status_reply(turn.session, turn.resident)
    if turn.resident is not None and wishes.wishes_for_resident(turn.session, turn.resident, open_only=True, limit=1):
        return status_reply(turn.session, turn.resident)
    return None


register_answer("ticket_status", _status)
