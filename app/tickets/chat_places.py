"""Where a report is: the resident's own flat, a shared area (楼道, 电梯), a building, unit and room, or one
of the community's named places; answers to "where?" checked to be places; a place said at the confirm step
merged with the draft's. Used by the repair and complaint flows (chat.py) and the urgent safety tickets."""

from __future__ import annotations

from app.chat.dialog.core import Turn
from app.community import places
from app.community.models import Resident
from app.core.words import says_cancel
from app.tickets.records import Location

HOME_WORDS = ("我家", "家里", "家中", "自家", "我们家", "屋里", "室内", "厨房", "卫生间", "厕所", "浴室", "阳台",
              "卧室", "客厅", "房间", "马桶", "家门")
RELATIVE_WORDS = ("楼上", "楼下", "隔壁", "对门", "邻居")  # complaints about the neighbours of one's home
SHARED_WORDS = ("电梯", "楼道", "走廊", "楼梯", "单元门", "大门", "北门", "南门", "东门", "西门", "车库", "地下室",
                "停车场", "广场", "花园", "绿化", "门口", "天台", "屋顶", "健身区", "路灯", "垃圾房", "垃圾桶",
                "消防通道", "大堂", "门厅", "水泵房", "配电房", "楼下", "小区")
NEEDS_BUILDING = ("elevator",)  # an elevator report without its building cannot be dispatched
ASK_PLACE = ("请问具体在哪里？是您家里，回复“我家”即可；公共区域请说楼栋和位置，"
             "例如“3幢电梯”“5幢2单元楼道”“北门停车场”。")
ASK_BUILDING = "请问是几幢的电梯？例如“3幢”。"



def home_location(resident: Resident | None, place: str = "家中") -> dict | None:
    household = resident.household if resident is not None else None
    if household is None:
        return None
    return {"building": household.unit.building.number, "unit": household.unit.number, "room": household.room,
            "place": place}


def first_word(words: tuple[str, ...], text: str) -> str | None:
    return next((w for w in words if w in text), None)


# words that contain a place's name but are not that place: 广场舞 is a dance, not the square
NOT_PLACES = ("广场舞", "小区群", "小区业主群")


def shared_place(text: str) -> str | None:
    """The shared place the message names, if any (compounds that only contain a place's name do not count)."""
    for word in NOT_PLACES:
        text = text.replace(word, " " * len(word))
    return first_word(SHARED_WORDS, text)


# A generic request with no problem in it (我要报修, 投诉一下): the flow asks what is wrong first.
_REQUEST_WORDS = ("我要", "我想", "想要", "帮我", "麻烦", "请", "报修", "投诉", "报个修", "报事", "反映", "一下", "个",
                  "要", "我", "的", "问题", "事情")


def names_no_problem(text: str) -> bool:
    """Whether the message only asks to report, without saying what is wrong."""
    rest = text
    for word in sorted(_REQUEST_WORDS, key=len, reverse=True):
        rest = rest.replace(word, "")
    return not any("\u4e00" <= ch <= "\u9fff" or ch.isalnum() for ch in rest)


def location_from(turn: Turn, *, answer: bool) -> dict | None:
    """Where the message says the problem is; answer=True also takes a place in plain words."""
    slots = dict(getattr(turn.parsed, "slots", None) or {})
    text = turn.text
    building, unit, room = slots.get("building"), slots.get("unit"), slots.get("room")
    if building is None and answer and text.isdigit() and len(text) <= 3:
        building = text  # "3" in answer to "几幢"
    if building and room:
        return {"building": building, "unit": unit, "room": room, "place": ""}
    shared = shared_place(text)
    if building:
        home = home_location(turn.resident)
        if not shared and first_word(HOME_WORDS, text) and home is not None and home["building"] == building:
            return home  # 30幢马桶堵了 from a 30幢 resident: their own flat, not the building
        described = shared_place(turn.slots.get("description") or "") if answer else None  # 楼道灯不亮 → 5幢1单元
        return {"building": building, "unit": unit, "room": None, "place": shared or described or ""}
    if first_word(HOME_WORDS, text) and not shared:
        return home_location(turn.resident)
    named = named_place(turn)
    if named is not None:  # 北门停车场 / 中心花园: one of the community's own places, by its proper name
        return {"building": named.building, "unit": None, "room": None, "place": named.name}
    relative = first_word(RELATIVE_WORDS, text)
    if relative and turn.slots.get("kind") == "complaint":
        return home_location(turn.resident, place=f"家的{relative}")
    if shared and turn.slots.get("category") not in NEEDS_BUILDING:
        return {"building": None, "unit": None, "room": None, "place": text[:60] if answer else shared}
    if answer and looks_like_place(turn) and turn.slots.get("category") not in NEEDS_BUILDING:
        return {"building": None, "unit": None, "room": None, "place": text[:60]}
    return None


def named_place(turn: Turn):
    """The community's named place the message mentions (longest name or alias), if any."""
    if turn.resident is None:
        return None
    return places.find(places.named(turn.session, turn.resident.community_id), turn.text)


# what a place said in plain words has in it (大树下面, 3号门旁边, 篮球场): anything else is no place
PLACE_HINTS = ("旁", "边", "前", "后", "门", "附近", "里", "下面", "上面", "底下", "对面", "路", "口", "区", "栋",
               "幢", "楼", "房", "室", "场", "园", "池", "亭", "道", "廊", "桥", "角", "处", "间", "层", "台", "坪",
               "棚", "库", "站", "店", "中心", "墙", "树", "草")


# an answer that is a question or another request, not a place: asked again instead of filed as the place
QUESTION_ENDS = ("吗", "嗎", "么", "麼", "嘛", "呢", "？", "?")
OTHER_REQUESTS = ("parking_query", "booking_create", "booking_cancel", "status_query", "car_notice", "wish", "info",
                  "human", "greeting", "emergency", "activity_query", "merchant_query")


def looks_like_place(turn: Turn) -> bool:
    """A short answer with Chinese in it that is not a shrug, a question or another request: taken as the
    place in words."""
    text = turn.text
    shrugs = ("不知道", "不清楚", "随便", "你猜", "啊", "？", "?", "什么")
    if not (2 <= len(text) <= 60 and any("\u4e00" <= ch <= "\u9fff" for ch in text)):
        return False
    if any(s in text for s in shrugs) or text.rstrip("。.!！ ").endswith(QUESTION_ENDS) or says_cancel(text):
        return False
    if not any(hint in text for hint in PLACE_HINTS):  # 我也说不好 / 好的: a reply, but no place
        return False
    parsed = turn.parsed
    return not (getattr(parsed, "intent", None) in OTHER_REQUESTS and float(getattr(parsed, "confidence", 0)) >= 0.5)


def extract_location(turn: Turn) -> dict | None:
    found = location_from(turn, answer=True)
    if found is not None and turn.slots.get("category") in NEEDS_BUILDING and not found.get("building"):
        return None
    return found


def place_prompt(turn: Turn) -> str:
    return ASK_BUILDING if turn.slots.get("category") in NEEDS_BUILDING else ASK_PLACE


def as_location(slots: dict) -> Location:
    loc = slots.get("location") or {}
    return Location(building=loc.get("building"), unit=loc.get("unit"), room=loc.get("room"),
                    place=loc.get("place") or "")


def merged_place(current: dict | None, said: dict | None, slots: dict) -> dict | None:
    """A place said at the confirm step, completed from the draft's: 是2单元402 adds the unit and room to 7幢;
    哦是3单元 moves the unit; the resident's own building said again (30幢) keeps the flat already there."""
    if (current and current.get("building") and not slots.get("building")
            and (slots.get("unit") or slots.get("room"))):
        return {**current, "unit": slots.get("unit") or current.get("unit"), "room": slots.get("room"),
                "place": current.get("place") if not slots.get("room") else ""}
    if not said or not current:
        return said
    same_building = said.get("building") == current.get("building")
    if same_building and not (said.get("unit") or said.get("room") or said.get("place")):
        return current  # 30幢 from a 30幢 resident whose flat is the draft's place: nothing new
    if said.get("building") and not said.get("place") and not current.get("building") and current.get("place"):
        return {**said, "place": current["place"]}  # 楼道 then 5幢1单元: the stairwell of 5幢1单元
    return said
