"""What the official account answers to each kind of message and event."""

from __future__ import annotations

from flask import current_app

from app.binding.bindings import resident_for_openid
from app.chat import core as chat
from app.chat.conversations import set_dialog
from app.chat.env import env_of
from app.chat.menu import help_text
from app.tickets import chat as ticket_chat
from bots.registry import (
    DEFAULT_EVENT,
    DEFAULT_MENU,
    DEFAULT_MESSAGE,
    Inbound,
    menu_handler,
    on_menu,
    on_message,
)

# The chat core parses and looks up a few rows: well inside WeChat's 5 s, but a budget below
# this sends the answer from a worker instead.
CHAT_COST_MS = 200

WELCOME = (
    "欢迎关注！我是小区的邻里助手，报修、投诉、查车位、预约社区诊所都可以直接发消息告诉我。\n\n"
    "第一次使用请先绑定房号：发送“绑定”，再按提示发送房号和在物业登记的手机号"
    "（例如：3幢2单元1201 13812345678）。"
)
VOICE_UNHEARD = "抱歉，这条语音我没听清，请用文字再说一次，例如“3号楼电梯坏了”。"
IMAGE_RECEIVED = "收到您的图片了。如果是报修或投诉，请再用文字说一下是什么问题、在哪里，我来为您登记。"
UNSUPPORTED = "抱歉，我暂时还看不懂这类消息，请直接发文字告诉我您需要什么。"


def _chat(inbound: Inbound) -> str:
    return chat.handle_text(inbound.session, channel=inbound.channel, openid=inbound.openid,
                            text=inbound.text, now=inbound.now, env=env_of(current_app))


@on_message("text", cost_ms=CHAT_COST_MS, chat=True)
def text_message(inbound: Inbound) -> str:
    """Text goes to the chat core."""
    return _chat(inbound)


@on_message("voice", cost_ms=CHAT_COST_MS, chat=True)
def voice_message(inbound: Inbound) -> str:
    """Voice is answered from WeChat's speech recognition; without it, ask to type."""
    if not inbound.text:
        return VOICE_UNHEARD
    return _chat(inbound)


@on_message("image")
def image_message(inbound: Inbound) -> str:
    """A photo joins the report being written, or the ticket sent a few minutes ago; else ask what it shows."""
    resident = resident_for_openid(inbound.session, inbound.channel, inbound.openid)
    attached = ticket_chat.attach_photo(inbound.session, inbound.conversation, resident,
                                        url=inbound.field("PicUrl")[:500], media_id=inbound.field("MediaId") or None,
                                        now=chat.local(inbound.now))
    return attached or IMAGE_RECEIVED


@on_message("location", "event:location_select")
def location_message(inbound: Inbound) -> str:
    """Acknowledge a shared location and say what to do with it."""
    label = inbound.field("Label") or inbound.field("Poiname")
    where = f"（{label}）" if label else ""
    return f"收到您发送的位置{where}。如需报修或投诉，请用文字说明具体楼栋和问题，例如“5幢楼道灯不亮了”。"


@on_message("event:subscribe", "event:subscribe_scan", "event:scan")
def subscribe(inbound: Inbound) -> str:
    """Welcome a new follower and tell them how to bind their room."""
    set_dialog(inbound.conversation, unsubscribed_at=None)
    resident = resident_for_openid(inbound.session, inbound.channel, inbound.openid)
    if resident is not None:
        return f"{resident.name}，欢迎回来！\n\n{help_text()}"
    return WELCOME


@on_message("event:unsubscribe")
def unsubscribe(inbound: Inbound) -> None:
    """Mark the conversation as unfollowed and drop any open flow; WeChat shows no reply."""
    set_dialog(inbound.conversation, unsubscribed_at=inbound.now.isoformat(), flow=None, binding=None)


@on_message("event:click")
def menu_click(inbound: Inbound) -> str | None:
    """A custom-menu click: dispatched again on its EventKey."""
    return menu_handler(inbound.field("EventKey"))(inbound)


@on_message(DEFAULT_MESSAGE)
def unsupported(inbound: Inbound) -> str:
    """Video, links, mini-program cards...: a polite answer."""
    return UNSUPPORTED


@on_message(DEFAULT_EVENT)
def silent_event(inbound: Inbound) -> None:
    """Events that need no answer (menu links, template delivery reports, ...)."""
    return None


@on_menu("menu:help", DEFAULT_MENU)
def menu_help(inbound: Inbound) -> str:
    """The help menu, with the binding hint for unbound users."""
    resident = resident_for_openid(inbound.session, inbound.channel, inbound.openid)
    return chat.help_menu(resident)


@on_menu("menu:bind")
def menu_bind(inbound: Inbound) -> str:
    """Start the binding dialog as if the user had typed 绑定."""
    return chat.handle_text(inbound.session, channel=inbound.channel, openid=inbound.openid, text="绑定",
                            now=inbound.now, env=env_of(current_app))


@on_menu("menu:human")
def menu_human(inbound: Inbound) -> str:
    """Ask for a person, as if the user had typed 转人工."""
    return chat.handle_text(inbound.session, channel=inbound.channel, openid=inbound.openid, text="转人工",
                            now=inbound.now, env=env_of(current_app))
