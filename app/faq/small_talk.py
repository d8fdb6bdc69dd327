"""Thanks, goodbyes and acknowledgements: a short answer, never the greeting and the help menu again.

Pure: the message's words decide. A plain greeting (你好, 在吗) is none of these: the chat core greets.
"""

from __future__ import annotations

import re

THANKS_WORDS = ("谢谢", "多谢", "感谢", "谢了", "谢啦", "谢谢啦", "辛苦", "麻烦你了", "麻烦您了", "thank", "thx", "3q")
BYE_WORDS = ("再见", "拜拜", "bye", "晚安", "回头见", "下次见", "没事了", "没有了", "没别的了", "没其他事", "就这样")
ACK_WORDS = ("好的", "好嘞", "好滴", "好吧", "好", "嗯嗯", "嗯", "哦哦", "哦", "收到", "知道了", "明白了", "明白",
             "了解", "okay", "ok", "行")
# what may surround those words in a message that says nothing else (谢谢小助手, 好的师傅, 88)
EXTRA_WORDS = ("小助手", "助手", "师傅", "你们", "您", "你", "啦", "啊", "呀", "哈", "了", "哦", "喔", "嘛", "呢", "吧",
               "的", "非常", "太", "真是", "真", "哈哈", "88", "拜")
GREETING_WORDS = ("你好", "您好", "在吗", "在不在", "在么", "早上好", "下午好", "晚上好", "哈喽", "hello", "hi", "嗨")
_PUNCTUATION = re.compile(r"[\W_]+")

THANKS = "THANKS"
BYE = "BYE"
THANKS_BYE = "THANKS_BYE"
ACK = "ACK"

REPLIES = {
    THANKS: "不客气{name}！有需要随时发消息给我。",
    BYE: "好的，再见{name}！祝您生活愉快，有需要随时发消息给我。",
    THANKS_BYE: "不客气，再见{name}！有需要随时发消息给我。",
    ACK: "好的{name}，有需要随时发消息给我。",
}


def _bare(text: str) -> str:
    return _PUNCTUATION.sub("", (text or "").lower())


def kind(text: str, *, whole: bool = False) -> str | None:
    """THANKS, BYE, THANKS_BYE, ACK or None (a greeting or anything else).

    whole: the message must say nothing but small talk (for messages the parser did not call a greeting)."""
    bare = _bare(text)
    if not bare:
        return None
    rest = bare
    for word in sorted((*THANKS_WORDS, *BYE_WORDS, *ACK_WORDS, *EXTRA_WORDS), key=len, reverse=True):
        rest = rest.replace(word, "")
    if whole and rest:
        return None
    thanks = any(word in bare for word in THANKS_WORDS)
    bye = any(word in bare for word in BYE_WORDS) or bare in ("88", "拜", "拜拜")
    if thanks and bye:
        return THANKS_BYE
    if thanks:
        return THANKS
    if bye:
        return BYE
    if any(word in bare for word in GREETING_WORDS):
        return None  # 你好 / 在吗: the chat core greets and shows what it can do
    return ACK if not rest else None


def reply(which: str, name: str | None = None) -> str:
    """The short answer to a kind of small talk, with the resident's name when known."""
    return REPLIES[which].format(name=f"，{name}" if name else "")
