"""The facility catalogue: starting menus per community kind, editing, matching a wish to an item, ratings.

An old neighbourhood starts from what older residents ask for (handrails, benches, a canteen), a
youth complex from what young families and commuters ask for (parcel lockers, study room, pet
area); every community can then edit its own menu in the console.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.community.models import Community, Resident
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.wishes.models import FacilityItem, FacilityRating

MATCH_SCORE = 85  # rapidfuzz WRatio over names and aliases; below this a wish stays free text

# (name, aliases, description, typical space, typical cost, who it serves)
COMMON = (
    ("自助打印机", ("打印机", "自助打印", "复印机", "打印复印"), "扫码即可打印、复印、扫描证件和作业，24小时可用。",
     "约1平方米，需室内或有顶棚", "约1–2万元（可由运营商免费投放）", "学生家长、上班族、老人办事"),
    ("快递柜", ("智能快递柜", "丰巢", "快递箱", "驿站"), "快递员投递、住户扫码取件，避免包裹堆在门口。",
     "约3–6平方米，靠近主出入口", "运营商投放，小区无需出资", "全体住户"),
    ("电动车充电桩", ("充电桩", "电瓶车充电", "充电站", "电动车充电"), "集中充电，杜绝飞线充电和电动车进楼。",
     "每组约10平方米，带雨棚", "每组约1–3万元", "骑电动车的住户"),
    ("长椅", ("座椅", "休息椅", "椅子", "凳子"), "在步道和树荫下增设休息座椅。", "每张约2平方米", "每张约800–2000元",
     "老人、带娃家长"),
    ("健身器材", ("健身区", "健身设施", "运动器材"), "户外健身路径：漫步机、扭腰器、单双杠等。", "约50–100平方米",
     "约3–8万元", "中老年人"),
)
MENUS: dict[str, tuple] = {
    "old_neighbourhood": COMMON + (
        ("楼道扶手", ("扶手", "楼梯扶手"), "在楼梯两侧加装扶手，方便老人上下楼。", "沿楼梯安装", "每个单元约3000元",
         "老人、行动不便者"),
        ("加装电梯", ("电梯", "增设电梯", "装电梯"), "多层住宅加装电梯，需本单元业主表决同意。", "单元外侧约15平方米",
         "每台约60–80万元（可申请补贴）", "高楼层老人"),
        ("老年食堂", ("助餐点", "长者食堂", "社区食堂", "老人食堂"), "为老人提供平价午餐和送餐。", "约80–150平方米",
         "装修约20万元，运营补贴", "老人"),
        ("无障碍坡道", ("坡道", "无障碍通道"), "单元门口台阶旁加装坡道，轮椅和推车都能进出。", "每处约3平方米",
         "每处约5000元", "轮椅使用者、推婴儿车的家长"),
    ),
    "youth_complex": COMMON + (
        ("共享自习室", ("自习室", "学习室", "共享书房"), "安静的自习和办公空间，带插座和网络。", "约60–100平方米",
         "约10–15万元", "学生、居家办公者"),
        ("宠物活动区", ("宠物乐园", "遛狗区", "狗狗公园"), "围合的宠物活动场地，配拾便袋和洗手池。", "约100平方米",
         "约3–5万元", "养宠家庭"),
        ("儿童游乐区", ("儿童乐园", "滑梯", "游乐场"), "适合3–12岁儿童的游乐设施和软地面。", "约150平方米",
         "约10–20万元", "有孩子的家庭"),
        ("乒乓球室", ("乒乓球台", "乒乓球"), "室内或有顶棚的乒乓球台。", "每台约30平方米", "每台约3000–8000元",
         "青少年、运动爱好者"),
    ),
    "standard": COMMON + (
        ("儿童游乐区", ("儿童乐园", "滑梯", "游乐场"), "适合3–12岁儿童的游乐设施和软地面。", "约150平方米",
         "约10–20万元", "有孩子的家庭"),
        ("乒乓球室", ("乒乓球台", "乒乓球"), "室内或有顶棚的乒乓球台。", "每台约30平方米", "每台约3000–8000元",
         "青少年、运动爱好者"),
        ("社区图书角", ("图书角", "图书馆", "阅览室"), "邻居捐书、免费借阅的小书屋。", "约20平方米", "约1–2万元",
         "孩子、老人"),
    ),
}


@dataclass(frozen=True)
class ItemRating:
    """The average stars and how many residents rated an item."""

    average: float | None
    count: int


def ensure_catalogue(session: Session, community: Community) -> int:
    """Give a community its starting menu (by its kind) when it has no items yet; returns how many were added."""
    if session.scalar(select(func.count()).select_from(FacilityItem)
                      .where(FacilityItem.community_id == community.id)):
        return 0
    menu = MENUS.get(community.kind) or MENUS["standard"]
    for position, (name, aliases, description, space, cost, serves) in enumerate(menu):
        session.add(FacilityItem(community_id=community.id, name=name, aliases=list(aliases),
                                 description=description, typical_space=space, typical_cost=cost, serves=serves,
                                 position=position))
    session.flush()
    return len(menu)


def items(session: Session, community_id: int, *, include_inactive: bool = False) -> list[FacilityItem]:
    """The community's menu in its order (its starting menu is created on first use)."""
    community = session.get(Community, community_id)
    if community is None:
        raise NotFound("没有找到这个小区", code="community_not_found")
    ensure_catalogue(session, community)
    query = select(FacilityItem).where(FacilityItem.community_id == community_id)
    if not include_inactive:
        query = query.where(FacilityItem.active.is_(True))
    return list(session.scalars(query.order_by(FacilityItem.position, FacilityItem.id)))


def get_item(session: Session, item_id: int, community_id: int) -> FacilityItem:
    """One item of the community's menu; another community's is not found."""
    item = session.get(FacilityItem, item_id)
    if item is None or item.community_id != community_id:
        raise NotFound("目录里没有这个设施", code="item_not_found")
    return item


def match_item(session: Session, community_id: int, phrase: str) -> FacilityItem | None:
    """The menu item a wish names, when the match over names and aliases is confident; else None."""
    phrase = (phrase or "").strip()
    if not phrase:
        return None
    choices: dict[str, FacilityItem] = {}
    for item in items(session, community_id):
        for word in (item.name, *(item.aliases or [])):
            choices.setdefault(word, item)
    exact = choices.get(phrase)
    if exact is not None:
        return exact
    contained = [w for w in choices if len(w) >= 2 and w in phrase]
    if contained:  # 小区门口装个快递柜 names 快递柜; the longest word wins (电动车充电 over 充电桩)
        return choices[max(contained, key=len)]
    found = process.extractOne(phrase, list(choices), scorer=fuzz.WRatio, score_cutoff=MATCH_SCORE)
    return choices[found[0]] if found else None


def _clean(value, limit: int) -> str:
    return str(value or "").strip()[:limit]


def save_item(session: Session, community_id: int, *, item_id: int | None = None, name: str,
              aliases: list[str] | str | None = None, description: str = "", typical_space: str = "",
              typical_cost: str = "", serves: str = "", photos: list[str] | None = None,
              active: bool = True, built: bool | None = None) -> FacilityItem:
    """Add an item to the menu or edit one (console)."""
    name = _clean(name, 50)
    if not name:
        raise ValidationFailed("请填写设施名称", code="missing_name")
    if isinstance(aliases, str):
        aliases = [a for a in aliases.replace("，", ",").replace("、", ",").split(",")]
    aliases = [a.strip()[:30] for a in (aliases or []) if a and a.strip()][:20]
    same = session.scalar(select(FacilityItem).where(FacilityItem.community_id == community_id,
                                                     FacilityItem.name == name))
    if item_id is None:
        if same is not None:
            raise Conflict("目录里已经有这个设施了", code="item_exists")
        position = session.scalar(select(func.max(FacilityItem.position))
                                  .where(FacilityItem.community_id == community_id)) or 0
        item = FacilityItem(community_id=community_id, name=name, position=position + 1)
        session.add(item)
    else:
        item = get_item(session, item_id, community_id)
        if same is not None and same.id != item.id:
            raise Conflict("目录里已经有这个设施了", code="item_exists")
        item.name = name
    item.aliases, item.description = aliases, _clean(description, 2000)
    item.typical_space, item.typical_cost, item.serves = (_clean(typical_space, 100), _clean(typical_cost, 100),
                                                          _clean(serves, 100))
    if photos is not None:
        item.photos = [p for p in photos if isinstance(p, str) and p][:9]
    item.active = bool(active)
    if built is not None:
        item.built = bool(built)
    session.flush()
    return item


def ratings(session: Session, item_ids: list[int]) -> dict[int, ItemRating]:
    """Average stars and count per item (items nobody rated are absent)."""
    if not item_ids:
        return {}
    rows = session.execute(select(FacilityRating.item_id, func.avg(FacilityRating.stars), func.count())
                           .where(FacilityRating.item_id.in_(item_ids)).group_by(FacilityRating.item_id))
    return {item_id: ItemRating(round(float(avg), 1), int(count)) for item_id, avg, count in rows}


def rate(session: Session, item_id: int, resident: Resident, *, stars: int, text: str = "") -> FacilityRating:
    """Rate a built facility 1–5 with words; a second rating by the same resident edits the first."""
    item = get_item(session, item_id, resident.community_id)
    if not item.built:
        raise Conflict("这个设施建成后才能评价", code="not_built")
    if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
        raise ValidationFailed("评分请选 1 到 5 星", code="bad_score")
    mine = select(FacilityRating).where(FacilityRating.item_id == item.id, FacilityRating.resident_id == resident.id)
    rating = session.scalar(mine)
    if rating is None:
        try:
            with session.begin_nested():  # a racing first rating by the same resident becomes an edit
                rating = FacilityRating(item_id=item.id, resident_id=resident.id, stars=stars)
                session.add(rating)
                session.flush()
        except IntegrityError:
            rating = session.scalar(mine)
    rating.stars, rating.text, rating.updated_at = stars, _clean(text, 500), utcnow()
    session.flush()
    return rating


def reviews(session: Session, item_id: int, limit: int = 50) -> list[FacilityRating]:
    """The newest ratings of an item."""
    return list(session.scalars(select(FacilityRating).where(FacilityRating.item_id == item_id)
                                .order_by(FacilityRating.updated_at.desc(), FacilityRating.id.desc()).limit(limit)))
