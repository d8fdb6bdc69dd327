"""The demo community 「邻里未来社区」: buildings, ~200 residents, tags and staff, built by seed steps.

Everything is generated from a fixed random seed, so the same residents come out on
every machine and a second run finds them already there. Each step is a function
(session, community) -> None that creates only what is missing; features add their demo
data with add_step() in their init_app.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from app.community import places
from app.community.models import Community, Resident, Staff, Tag, resident_tag
from app.community.roster import HouseholdIndex
from app.community.tags import refresh_all
from app.core.clock import local_now

DEMO_COMMUNITY = "邻里未来社区"
SEED = 2026
TARGET_RESIDENTS = 200

# (number, walking position, units, floors, rooms per floor): old six-storey blocks and two newer towers.
BUILDINGS = [
    ("1", 1, 3, 6, 2), ("2", 2, 3, 6, 2), ("3", 3, 2, 6, 2), ("4", 4, 2, 6, 2),
    ("5", 5, 3, 6, 2), ("6", 6, 2, 6, 2), ("7", 8, 2, 6, 2), ("8", 9, 2, 6, 2),
    ("9", 10, 3, 6, 2), ("10", 7, 2, 6, 2), ("28", 11, 2, 12, 2), ("30", 12, 2, 18, 2),
]


@dataclass(frozen=True)
class StaffSeed:
    username: str
    password: str
    role: str
    name: str
    buildings: tuple[str, ...] = ()


DEMO_STAFF = [
    StaffSeed("admin", "demo-admin-2026", "admin", "系统管理员"),
    StaffSeed("kefu", "demo-property-2026", "property", "周敏"),
    StaffSeed("repair1", "demo-repair-2026", "repair_worker", "李师傅", ("1", "2", "3", "4", "5", "6")),
    StaffSeed("repair2", "demo-repair-2026", "repair_worker", "张师傅", ("7", "8", "9", "10", "28", "30")),
    StaffSeed("doctor1", "demo-doctor-2026", "doctor", "陈文医生", ("1", "2", "3", "4", "5", "10")),
    StaffSeed("doctor2", "demo-doctor-2026", "doctor", "何静医生", ("6", "7", "8", "9", "28", "30")),
    StaffSeed("committee", "demo-committee-2026", "committee", "王建国主任"),
    StaffSeed("steward1", "demo-steward-2026", "steward", "沈丽楼栋管家", ("1", "2", "3", "4", "5", "6", "7")),
    StaffSeed("steward2", "demo-steward-2026", "steward", "钱进楼栋管家", ("8", "9", "10", "28", "30")),
    StaffSeed("grid1", "demo-grid-2026", "grid_worker", "孔德华网格员"),
]
STAFF_ROLE_LABELS = {
    "admin": "管理员", "property": "物业客服", "repair_worker": "维修师傅", "doctor": "家庭医生", "committee": "业委会",
    "steward": "楼栋管家", "grid_worker": "网格员",
}
INTEREST_TAGS = {
    "太极": "太极拳、太极扇", "书法": "书法、国画", "广场舞": "广场舞、健身操",
    "亲子": "亲子活动、儿童托管", "求职": "找工作、技能培训",
}
MANUAL_TAGS = {"楼长": "楼栋长，协助通知与走访", "志愿者": "社区志愿者", "独居老人": "独居的 70 岁以上老人，需定期探访"}

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董沈曹许"
    "傅程袁邓彭吕苏卢蒋蔡丁魏叶余潘杜戴夏钟汪田任姜范方石姚谭金陆孔毛邵钱顾施"
)
GIVEN_NAMES = {  # by decade of birth, as names were given then
    1930: "秀英 桂兰 玉珍 凤英 福生 德明 根宝 阿毛 金花 永康 兰英 瑞林",
    1950: "建国 国华 秀珍 淑芬 志刚 建华 玉兰 卫东 红英 桂芳 美华 立新",
    1960: "丽华 红梅 志强 海燕 建平 晓红 建军 春燕 国强 雪琴 伟民 爱华",
    1970: "伟 静 军 敏 勇 燕 俊 丽萍 建锋 晓东 红霞 海峰",
    1980: "磊 婷婷 杰 晓燕 鹏 丹 佳 倩 浩 琳 斌 莉",
    1990: "子涵 浩然 欣怡 宇轩 梓萱 思远 雨桐 嘉怡 俊杰 佳琪 一鸣 诗琪",
    2000: "一诺 若曦 俊熙 梓涵 沐阳 语桐 奕辰 可馨 子墨 安琪 皓轩 思彤",
}
PHONE_PREFIXES = ("133", "135", "137", "138", "139", "150", "151", "158", "180", "186", "187", "188", "189", "199")
# Households as they come in an old neighbourhood: (kind, weight).
HOUSEHOLD_KINDS = (("elderly_alone", 20), ("elderly_couple", 25), ("family", 30), ("tenants", 15), ("young_owner", 10))


@dataclass
class DemoResident:
    """One generated resident, before it becomes a row."""

    building: str
    unit: str
    room: str
    name: str
    phone: str
    birth_year: int
    role: str
    oa_openid: str | None = None
    wxa_openid: str | None = None
    tags: list[str] = field(default_factory=list)  # tag names: "interest:太极", "楼长"


def _rooms() -> list[tuple[str, str, str]]:
    return [
        (number, str(unit), f"{floor}{seat:02d}")
        for number, _pos, units, floors, per_floor in BUILDINGS
        for unit in range(1, units + 1)
        for floor in range(1, floors + 1)
        for seat in range(1, per_floor + 1)
    ]


def _name(rng: random.Random, birth_year: int, surname: str | None = None) -> str:
    decade = max(d for d in GIVEN_NAMES if d <= max(birth_year, 1930))
    return (surname or rng.choice(SURNAMES)) + rng.choice(GIVEN_NAMES[decade].split())


def _household_members(rng: random.Random, kind: str, this_year: int) -> list[tuple[int, str, bool]]:
    """(birth_year, role, same surname as the first member) for each member of a household.

    The years below are written as of 2026 and moved with the calendar, so the demo's ages (and so
    its age tags, building leaders and elderly residents living alone) are the same every year."""
    return [(year + this_year - AGES_AS_OF, role, same) for year, role, same in _members_as_of_2026(rng, kind)]


def _members_as_of_2026(rng: random.Random, kind: str) -> list[tuple[int, str, bool]]:
    """Members of one household, with birth years as of 2026."""
    if kind == "elderly_alone":
        return [(rng.randint(1934, 1956), "owner", True)]
    if kind == "elderly_couple":
        year = rng.randint(1938, 1962)
        return [(year, "owner", True), (year + rng.randint(-3, 3), "family", False)]
    if kind == "family":
        year = rng.randint(1972, 1992)
        members = [(year, "owner", True), (year + rng.randint(-2, 3), "family", False)]
        if rng.random() < 0.3:
            members.append((rng.randint(2008, 2012), "family", True))  # a teenager with a phone
        if rng.random() < 0.45:
            members.append((rng.randint(1942, 1958), "family", True))  # a grandparent living in
        return members
    if kind == "tenants":
        return [(rng.randint(1990, 2004), "tenant", False) for _ in range(rng.choice((1, 1, 2)))]
    return [(rng.randint(1984, 1998), "owner", True)]


AGES_AS_OF = 2026  # the year the birth years in _members_as_of_2026 are written for


@cache
def demo_residents() -> tuple[DemoResident, ...]:
    """The demo residents, the same on every run (fixed seed)."""
    rng = random.Random(SEED)
    rooms = _rooms()
    rng.shuffle(rooms)
    this_year = local_now().year
    kinds, weights = zip(*HOUSEHOLD_KINDS, strict=True)
    phones: set[str] = set()
    people: list[DemoResident] = []
    leaders: set[str] = set()
    for building, unit, room in rooms:
        if len(people) >= TARGET_RESIDENTS:
            break
        kind = rng.choices(kinds, weights)[0]
        surname = rng.choice(SURNAMES)
        for birth_year, role, same_surname in _household_members(rng, kind, this_year):
            phone = ""
            while not phone or phone in phones:
                phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            phones.add(phone)
            # named as of AGES_AS_OF, like the ages: the same people, with the same names, every year
            person = DemoResident(building, unit, room, _name(rng, birth_year - this_year + AGES_AS_OF,
                                                              surname if same_surname else None),
                                  phone, birth_year, role)
            age = this_year - birth_year
            if age >= 55:
                odds = (("太极", 0.25), ("书法", 0.2), ("广场舞", 0.3))
                person.tags += [f"interest:{t}" for t, p in odds if rng.random() < p]
            if kind == "family" and 28 <= age <= 50 and rng.random() < 0.5:
                person.tags.append("interest:亲子")
            if 18 <= age <= 34 and rng.random() < 0.5:
                person.tags.append("interest:求职")
            if kind == "elderly_alone" and age >= 70:
                person.tags.append("独居老人")
            if role == "owner" and building not in leaders and 45 <= age <= 75:
                leaders.add(building)
                person.tags.append("楼长")
            elif 25 <= age <= 75 and rng.random() < 0.06:
                person.tags.append("志愿者")
            people.append(person)
    for index, person in enumerate(people, start=1):
        if rng.random() < 0.6:
            person.oa_openid = f"o_demo_{index:04d}"
        if person.birth_year - this_year + AGES_AS_OF >= 1965 and rng.random() < 0.45:
            person.wxa_openid = f"w_demo_{index:04d}"
    return tuple(people)


# ---- seed steps: each creates only what is missing ------------------------------------

def seed_buildings(session: Session, community: Community) -> None:
    """Buildings with their walking order, units and every room."""
    index = HouseholdIndex(session, community)
    for building, unit, room in _rooms():
        index.household(building, unit, room)
    positions = {number: pos for number, pos, *_ in BUILDINGS}
    for number, building in index.buildings.items():
        if number in positions:
            building.position = positions[number]


def seed_residents(session: Session, community: Community) -> None:
    """The demo residents, each in their room; openids already taken elsewhere are left off."""
    index = HouseholdIndex(session, community)
    known = set(session.scalars(select(Resident.phone).where(Resident.community_id == community.id)))
    people = demo_residents()
    taken = set(session.scalars(select(Resident.oa_openid).where(Resident.oa_openid.like("o_demo_%"))))
    taken |= set(session.scalars(select(Resident.wxa_openid).where(Resident.wxa_openid.like("w_demo_%"))))
    for person in people:
        if person.phone in known:
            continue
        session.add(Resident(
            community_id=community.id, household=index.household(person.building, person.unit, person.room),
            name=person.name, phone=person.phone, birth_year=person.birth_year, role=person.role,
            oa_openid=None if person.oa_openid in taken else person.oa_openid,
            wxa_openid=None if person.wxa_openid in taken else person.wxa_openid, status="active",
        ))


def seed_tags(session: Session, community: Community) -> None:
    """Interest and manual tags in the catalogue, and on the residents who have them."""
    catalogue = {t.name: t for t in session.scalars(select(Tag).where(Tag.community_id == community.id))}
    interests = {f"interest:{k}": v for k, v in INTEREST_TAGS.items()}
    for names, kind in ((interests, "interest"), (MANUAL_TAGS, "manual")):
        for name, description in names.items():
            if name not in catalogue:
                catalogue[name] = Tag(community_id=community.id, name=name, kind=kind, description=description)
                session.add(catalogue[name])
    session.flush()
    phones = select(Resident.phone, Resident.id).where(Resident.community_id == community.id)
    by_phone = dict(session.execute(phones).all())
    tag_ids = [catalogue[name].id for name in (*(f"interest:{k}" for k in INTEREST_TAGS), *MANUAL_TAGS)]
    have = set(session.execute(
        select(resident_tag.c.resident_id, resident_tag.c.tag_id).where(resident_tag.c.tag_id.in_(tag_ids))
    ).all())
    links = {
        (by_phone[p.phone], catalogue[name].id)
        for p in demo_residents() if p.phone in by_phone
        for name in p.tags
    }
    missing = [{"resident_id": r, "tag_id": t} for r, t in sorted(links - have)]
    if missing:
        session.execute(insert(resident_tag), missing)


def seed_staff(session: Session, community: Community) -> None:
    """The staff accounts printed at the end; existing usernames are left as they are."""
    existing = set(session.scalars(select(Staff.username)))
    for seed in DEMO_STAFF:
        if seed.username not in existing:
            session.add(Staff(
                community_id=community.id, username=seed.username, name=seed.name, role=seed.role,
                password_hash=generate_password_hash(seed.password), building_scope=list(seed.buildings),
                wecom_userid=seed.username,  # their WeChat Work account, used once WECOM_* is configured
            ))


def seed_system_tags(session: Session, community: Community) -> None:
    """Building, unit, age and role tags for everyone."""
    refresh_all(session, community.id)


SeedStep = Callable[[Session, Community], None]
_steps: dict[str, SeedStep] = {}


def add_step(step: SeedStep) -> None:
    """Run `step` when the demo is seeded, after the steps added before it (a feature's init_app
    adds its own; adding the same function again changes nothing). Each step creates only what
    is missing, so `flask seed-demo` can run again to complete an older demo."""
    _steps.setdefault(f"{step.__module__}.{step.__qualname__}", step)


def steps() -> list[SeedStep]:
    """Every seed step, in order: the community's own first."""
    return list(_steps.values())


for _base in (seed_buildings, seed_residents, seed_tags, seed_staff, seed_system_tags):
    add_step(_base)


# ---- running the seed ---------------------------------------------------------------

@dataclass
class DemoReport:
    """What the demo community holds after seeding, and how to sign in."""

    community: str
    buildings: int
    residents: int
    following: int
    staff: list[StaffSeed]
    samples: list[tuple[str, str, str, str]]  # openid, name, address, age

    def lines(self) -> list[str]:
        """The text seed-demo prints."""
        out = [
            f"演示小区「{self.community}」：{self.buildings} 幢楼，{self.residents} 位居民"
            f"（{self.following} 位已关注公众号），{len(self.staff)} 个员工账号",
            "员工登录（用户名 / 密码 / 岗位）：",
        ]
        out += [f"  {s.username:<10} {s.password:<22} {STAFF_ROLE_LABELS[s.role]} {s.name}" for s in self.staff]
        out.append("演示居民（公众号 openid / 姓名 / 住址 / 年龄）：")
        out += [f"  {openid}  {name}  {address}  {age}" for openid, name, address, age in self.samples]
        return out


def seed_demo(session: Session, *, if_empty: bool = False) -> DemoReport | None:
    """Create or complete the demo community; with if_empty, None when any community exists."""
    if if_empty and session.scalar(select(Community.id).limit(1)) is not None:
        return None
    community = session.scalar(select(Community).where(Community.name == DEMO_COMMUNITY))
    if community is None:
        community = Community(name=DEMO_COMMUNITY, kind="old_neighbourhood", city="杭州")
        session.add(community)
        session.flush()
    for step in steps():
        step(session, community)
        session.flush()
    return _report(session, community)


def _report(session: Session, community: Community) -> DemoReport:
    residents = select(func.count(Resident.id)).where(Resident.community_id == community.id)
    this_year = local_now().year
    samples = []
    people = [p for p in demo_residents() if p.oa_openid]
    picks = people[:2] + [p for p in people if p.wxa_openid][:1]
    picks += [p for p in people if this_year - p.birth_year >= 80 and p not in picks][:2]
    for person in picks:
        resident = session.scalar(select(Resident).where(Resident.oa_openid == person.oa_openid))
        if resident is not None and resident.household is not None:
            age = f"{this_year - resident.birth_year} 岁" if resident.birth_year else "年龄未知"
            samples.append((resident.oa_openid, resident.name, resident.household.label, age))
    return DemoReport(
        community=community.name,
        buildings=len(community.buildings),
        residents=session.scalar(residents),
        following=session.scalar(residents.where(Resident.oa_openid.is_not(None))),
        staff=list(DEMO_STAFF),
        samples=samples,
    )


# ---- named places -------------------------------------------------------------------------

DEMO_PLACES = (  # name, kind, other names residents use, building
    ("东门", "gate", "东大门,东门口", None),
    ("西门", "gate", "西大门,西门口", None),
    ("北门", "gate", "北大门,北门口", None),
    ("中心花园", "garden", "中央花园,小花园,花园", None),
    ("北门停车场", "parking", "北门车场,北边停车场", None),
    ("地下车库", "parking", "地库,地下停车场", None),
    ("健身广场", "facility", "健身区,广场,健身器材那里", None),
    ("儿童乐园", "facility", "儿童游乐区,滑滑梯那里", None),
    ("垃圾分类房", "facility", "垃圾房,垃圾分类亭,垃圾站", None),
    ("物业服务中心", "facility", "物业办公室,物业中心", "1"),
    ("卫生服务站", "facility", "卫生站,社区诊所", None),
    ("非机动车棚", "parking", "车棚,电瓶车棚,电动车棚", None),
)


def seed_places(session: Session, community: Community) -> None:
    """The demo's named places, so a report's "where" matches real ones (北门停车场, 中心花园)."""
    known = {p.name for p in places.named(session, community.id, active_only=False)}
    for name, kind, aliases, building in DEMO_PLACES:
        if name not in known:
            places.add_place(session, community.id, name=name, kind=kind, aliases=aliases, building=building)


add_step(seed_places)
