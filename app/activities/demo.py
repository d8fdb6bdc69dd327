"""Demo clubs and activities for 「邻里未来社区」: seventeen interest clubs and 老年大学 courses with weekly or
fortnightly sessions (generated for the coming two weeks from today's date), a few one-off activities,
members and sign-ups; one full activity has a waitlist."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.activities import activities, clubs, signups
from app.activities.models import Activity, Club
from app.community.models import Community, Resident, Staff
from app.core.clock import local_now, utcnow

# (name, description, every_weeks, weekday, time, minutes, place, capacity)
DEMO_CLUBS = (
    ("太极拳", "杨氏太极二十四式，零基础可学，自带宽松衣服", 1, 1, "07:30", 60, "中心广场", 0),
    ("书法社", "楷书、行书临帖，笔墨纸砚社区提供", 1, 5, "09:00", 120, "社区活动中心二楼书画室", 16),
    ("合唱团", "红歌、越剧选段和流行歌，每年参加街道汇演", 1, 3, "14:30", 90, "社区活动中心多功能厅", 40),
    ("舞蹈队", "广场舞、民族舞，排练新节目", 1, 4, "19:00", 60, "中心广场", 0),
    ("乒乓球俱乐部", "两张球台，有教练带新手", 1, 6, "15:00", 120, "10幢旁乒乓球室", 12),
    ("象棋社", "象棋、围棋对弈，每月一次小比赛", 1, 2, "14:00", 120, "老年活动室", 20),
    ("编织小组", "毛线编织、钩针，为独居老人织围巾", 2, 3, "09:30", 90, "社区活动中心一楼", 15),
    ("摄影社", "手机摄影技巧、外拍，作品在社区展板展出", 2, 6, "08:30", 150, "东门集合", 20),
    ("读书会", "每两周一本书，轮流分享", 2, 0, "19:30", 90, "社区图书角", 20),
    ("园艺小组", "打理小区共享菜园和花坛", 1, 5, "08:00", 90, "28幢旁共享菜园", 15),
    ("亲子乐园", "周末亲子手工、绘本故事", 1, 6, "10:00", 90, "社区儿童之家", 12),
    ("志愿者服务队", "助老探访、垃圾分类督导、文明劝导", 1, 5, "14:00", 120, "社区服务中心", 0),
    ("老年大学·智能手机班", "教老人用微信、健康码、网上挂号和防诈骗", 1, 2, "09:00", 90, "社区老年学校教室", 20),
    ("老年大学·国画班", "花鸟国画入门", 1, 4, "09:00", 120, "社区老年学校教室", 15),
    ("老年大学·养生课堂", "家庭医生讲慢病管理、合理用药", 2, 1, "14:30", 60, "社区卫生服务站会议室", 30),
    ("老年大学·越剧班", "越剧经典唱段学唱", 1, 0, "14:30", 90, "社区活动中心多功能厅", 25),
    ("健步走", "沿运河健步走五公里", 1, 0, "18:30", 60, "南门集合", 0),
)
# (title, days ahead, time, minutes, place, capacity, description)
DEMO_ONE_OFF = (
    ("冬至包饺子", 3, "09:30", 150, "社区活动中心一楼", 30, "和邻居一起包饺子，送给独居老人"),
    ("防电信诈骗讲座", 5, "14:30", 90, "社区活动中心多功能厅", 60, "派出所民警讲最新骗局"),
    ("义诊：测血压血糖", 6, "08:30", 180, "社区卫生服务站门口", 0, "家庭医生团队现场义诊"),
    ("旧物交换集市", 9, "09:00", 180, "中心广场", 0, "带上闲置物品来交换"),
    ("手机拍年夜饭摄影课", 4, "19:00", 90, "社区老年学校教室", 2, "名额少，报满可候补"),
)


def seed_activities(session: Session, community: Community) -> None:
    """Demo seed step: clubs with members, their coming sessions, one-off activities and sign-ups."""
    if session.scalar(select(Club.id).where(Club.community_id == community.id).limit(1)) is not None:
        clubs.generate_all(session)  # a later run only tops up sessions
        return
    rng = random.Random(20)
    residents = list(session.scalars(select(Resident).where(Resident.community_id == community.id)
                                     .order_by(Resident.id)))
    older = [r for r in residents if r.birth_year and r.birth_year <= local_now().year - 60] or residents
    committee = session.scalar(select(Staff).where(Staff.community_id == community.id, Staff.role == "committee"))
    for i, (name, description, every, weekday, at, minutes, place, capacity) in enumerate(DEMO_CLUBS):
        organiser = older[(i * 7) % len(older)] if older and i % 3 else committee
        club = clubs.create_club(session, community.id, name=name, description=description, organiser=organiser,
                                 every_weeks=every, weekday=weekday, session_time=at, session_minutes=minutes,
                                 place=place, capacity=capacity)
        for resident in rng.sample(residents, min(len(residents), rng.randint(6, 18))):
            clubs.join(session, club, resident)
        clubs.generate_sessions(session, club)
    today = local_now().date()
    for title, days, at, minutes, place, capacity, description in DEMO_ONE_OFF:
        activities.create_activity(session, community.id, title=title,
                                   starts_at=activities.local_to_utc(today + timedelta(days=days), at),
                                   minutes=minutes, place=place, capacity=capacity, description=description,
                                   staff=committee)
    now = utcnow()
    coming = list(session.scalars(select(Activity).where(Activity.community_id == community.id,
                                                         Activity.starts_at > now).order_by(Activity.starts_at)))
    for activity in coming[:25]:
        want = 4 if activity.capacity == 0 else min(activity.capacity + 2, 8)
        for resident in rng.sample(residents, min(len(residents), want)):
            signups.sign_up(session, resident, activity.id, now=now, source=rng.choice(("oa", "wxa", "wxa")))
    session.flush()
