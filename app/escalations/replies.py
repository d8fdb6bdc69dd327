"""What the resident is told around a handoff: rephrase hints, the offer of a person, when staff answer.

Pure wording: plain values in, text out. The words residents use to say yes to a person, or to go
back to the bot, are here too, so the escalation state machine (escalations.py) reads them from one place.
"""

from __future__ import annotations

from datetime import datetime

from app.chat.menu import help_text
from app.core.words import CANCEL_WORDS, HUMAN_WORDS, NO_WORDS, YES_WORDS
from app.escalations import business_hours
from app.escalations.business_hours import BusinessHours

# 结束人工, 退出人工, 取消人工 read as a request for a person to the parser: they must be caught first
WITHDRAW_WORDS = frozenset({"不用人工了", "不用人工", "不要人工了", "不要人工", "不需要人工了", "不需要人工",
                            "不需要了", "结束人工", "结束人工服务", "退出人工", "取消人工", "取消转人工", "不转人工了",
                            "不转人工", "回到机器人", "返回机器人"})
# yes to "shall a person help?": the dialog's yes words and a few that only make sense here
ACCEPT_WORDS = YES_WORDS | HUMAN_WORDS | frozenset({"要", "要的", "需要", "转", "转吧", "好啊", "好吧", "麻烦了",
                                                    "麻烦你了", "是的转人工", "找人", "要人工"})
DECLINE_WORDS = NO_WORDS | CANCEL_WORDS | WITHDRAW_WORDS | frozenset({"不要", "不用", "不需要", "不了", "不用了谢谢"})
# "what can you do?": the whole menu, never a miss
MENU_WORDS = frozenset({"帮助", "菜单", "功能", "help", "能做什么", "你能做什么", "你会什么", "你会做什么", "能干什么",
                        "你能干什么", "有什么功能", "有哪些功能", "怎么用"})

BIND_HINT = "还没有绑定房号？发送“绑定”，按提示填写房号和手机号即可。"  # the chat core's own words
BINDING_WAITS = "您的绑定申请正在等物业核实；收到6位验证码后直接回复即可。"
BINDING_ASKS = "正在绑定房号：请发送房号和在物业登记的手机号，例如：3幢2单元1201 13812345678；回复“取消”可退出。"
DRAFT_WAITS = "您刚才的事还没办完：接着回复即可，或回复“取消”放弃。"
# menu lines (app.chat.menu) to suggest, by their label, for where the resident is
SUGGEST_BOUND = ("报修", "查车位", "预约")
SUGGEST_DRAFT = ("找物业的人",)
SUGGEST_UNBOUND = ("查车位", "找物业的人")
HINT_HEAD = "抱歉，我没太明白您的意思，换个说法试试？比如："
HINT_TAIL = "发送“帮助”可查看我能做的全部事情。"
OFFER = "抱歉，我还是没弄明白。需要请物业工作人员来帮您吗？回复“是”转人工，回复其他内容可以继续和我说。"
CANCEL_ACK = "好的，不办了。有需要随时告诉我。"
DECLINED = "好的，那我们继续。有什么需要直接告诉我，或发送“帮助”看看我能做什么。"
NOTHING_TO_END = "现在是邻里助手在为您服务，没有进行中的人工会话。有什么需要直接告诉我。"
WITHDRAWN = "好的，已结束人工服务，邻里助手继续为您服务。有什么需要直接告诉我。"
HUMAN_REPLY = "好的，已为您转给物业工作人员，请稍候，工作人员会尽快回复您。"
WAY_BACK = "如不需要人工了，回复“结束人工”。"
WEEKDAYS = "一二三四五六日"


def _clock(at) -> str:
    return f"{at.hour}:{at.minute:02d}"


def hours_text(hours: BusinessHours) -> str:
    """工作时间 8:00–20:00 (with the days when not every day)."""
    span = f"{_clock(hours.start)}–{_clock(hours.end)}"
    days = sorted(set(hours.days))
    if days == list(range(7)) or not days:
        return f"工作时间 {span}"
    if days == list(range(days[0], days[-1] + 1)):
        return f"工作时间 周{WEEKDAYS[days[0]]}至周{WEEKDAYS[days[-1]]} {span}"
    return f"工作时间 {'、'.join('周' + WEEKDAYS[d] for d in days)} {span}"


def when(moment_utc: datetime, now_utc: datetime) -> str:
    """A moment as the resident says it: 今天 8:00, 明天 8:00, 周一 8:00, 12月8日 8:00."""
    at = business_hours.to_local(moment_utc)
    days = (at.date() - business_hours.to_local(now_utc).date()).days
    if days <= 0:
        day = "今天"
    elif days == 1:
        day = "明天"
    elif days == 2:
        day = "后天"
    elif days < 7:
        day = f"周{WEEKDAYS[at.weekday()]}"
    else:
        day = f"{at.month}月{at.day}日"
    return f"{day} {_clock(at)}"


def _opens(hours: BusinessHours, now_utc: datetime) -> str:
    return when(business_hours.next_opening(hours, now_utc), now_utc)


def offer(hours: BusinessHours, now_utc: datetime) -> str:
    """The second miss in a row: offer a person, saying when staff answer and how soon."""
    first_due, _ = business_hours.due_times(hours, now_utc, urgent=False)
    if business_hours.is_open(hours, now_utc):
        timing = (f"工作人员现在在岗（{hours_text(hours)}），一般{hours.first_response_minutes}分钟内回复，"
                  f"最晚{when(first_due, now_utc)}。")
    else:
        timing = (f"现在是下班时间（{hours_text(hours)}），工作人员{_opens(hours, now_utc)}上班后会尽快回复，"
                  f"最晚{when(first_due, now_utc)}。")
    return f"{OFFER}\n{timing}"


def handed_over(hours: BusinessHours, now_utc: datetime) -> str:
    """The reply to a handoff: in business hours "please wait"; off hours, when a person will answer."""
    if business_hours.is_open(hours, now_utc):
        return HUMAN_REPLY
    return (f"好的，已为您转给物业工作人员。现在是下班时间（{hours_text(hours)}），"
            f"工作人员{_opens(hours, now_utc)}上班后会尽快回复您。{WAY_BACK}")


def held_note(hours: BusinessHours, now_utc: datetime) -> str:
    """Said once per escalation, to the first message the bot would otherwise stay silent on."""
    if business_hours.is_open(hours, now_utc):
        return f"已转给工作人员，请稍候，工作人员会尽快回复（{hours_text(hours)}）；{WAY_BACK}"
    return f"已转给工作人员，工作人员上班后会尽快回复（{hours_text(hours)}）；{WAY_BACK}"


def returned_idle(idle_hours: float) -> str:
    """Told when a held conversation goes back to the bot after a long silence."""
    span = f"{idle_hours:g}小时" if idle_hours < 48 or idle_hours % 24 else f"{idle_hours / 24:g}天"
    return (f"您好，您转人工的会话已经{span}没有新消息，现在由邻里助手继续为您服务。"
            "如仍需要工作人员帮忙，回复“转人工”即可。")


def _menu_lines(labels: tuple[str, ...]) -> list[str]:
    """The help menu's lines whose label starts with one of labels, in that order (a missing feature: skipped)."""
    lines = [line for line in help_text().splitlines() if line.startswith("· ")]
    chosen = []
    for label in labels:
        chosen += [line for line in lines if line[2:].startswith(label) and line not in chosen][:1]
    return chosen


def hint(*, bound: bool, flow: str | None, binding_step: str | None = None) -> str:
    """The first miss: ask to rephrase, with two or three suggestions that fit where the resident is
    (bound or not, a binding request waiting, a draft open)."""
    if not bound:
        if flow == "binding":
            lead = [BINDING_WAITS if binding_step == "submitted" else BINDING_ASKS]
        else:
            lead = [BIND_HINT]
        labels = SUGGEST_UNBOUND
    elif flow:
        lead, labels = [DRAFT_WAITS], SUGGEST_DRAFT
    else:
        lead, labels = [], SUGGEST_BOUND
    return "\n".join([HINT_HEAD, *(f"· {line}" for line in lead), *_menu_lines(labels), HINT_TAIL])
