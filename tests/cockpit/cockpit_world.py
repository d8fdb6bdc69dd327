"""A small community for the cockpit's tests: residents in three buildings, tickets, wishes, parking, clinic
bookings, escalations, a campaign, alarms, devices and a welfare check, each written the way its feature does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from clinic_world import build_clinic

from app.campaigns.models import Campaign, Delivery
from app.chat.models import Conversation
from app.clinic.models import Booking
from app.cockpit.figures import LIVING_ALONE_TAG, local_day_start
from app.community.models import Building, Resident, Tag, resident_tag
from app.core.clock import utcnow
from app.devices.alarms import raise_alarm
from app.devices.models import Device
from app.escalations.escalations import escalate
from app.parking.models import ParkingZone, ZoneSample
from app.tickets.models import Ticket
from app.welfare.models import WelfareCheck, WelfareWatch
from app.wishes.models import Wish

# building -> birth years of its residents (3 people in building 2: a group below 5)
PEOPLE = {"1": (1940, 1948, 1955, 1962, 1975, 1988, 2001, 2015), "2": (1944, 1990, 2010),
          "3": (1950, 1951, 1980, 1985, 1999, 2005)}


@dataclass
class World:
    community_id: int
    residents: list[Resident] = field(default_factory=list)
    buildings: dict[str, int] = field(default_factory=dict)


def build(session, make_resident, *, community=None) -> World:
    """The community with every feature's rows; nothing committed."""
    now = utcnow()
    residents = []
    for number, years in PEOPLE.items():
        for i, year in enumerate(years):
            room = f"{i // 2 + 1}0{i % 2 + 1}"  # two people share each room
            residents.append(make_resident(number, "1", room, name=f"测名{number}{i}号", birth_year=year,
                                           openid=f"o_ck_{number}_{i}_{id(session) % 9999}", community=community))
    community_id = residents[0].community_id
    world = World(community_id, residents)
    gone = make_resident("1", "1", "901", name="搬走的人", birth_year=1960, community=community)
    gone.status = "moved_out"
    world.buildings = {b.number: b.id for b in session.query(Building).filter_by(community_id=community_id)}
    alone = Tag(community_id=community_id, name=LIVING_ALONE_TAG, kind="manual")
    session.add(alone)
    session.flush()
    session.execute(resident_tag.insert(), [{"resident_id": r.id, "tag_id": alone.id} for r in residents[:2]])

    def ticket(number, kind, category, status, hours_ago, due_in_hours):
        at = now - timedelta(hours=hours_ago)
        resident = residents[0]
        session.add(Ticket(community_id=community_id, kind=kind, category=category, status=status,
                           resident_id=resident.id, building=number, created_at=at, updated_at=at,
                           sla_due_at=now + timedelta(hours=due_in_hours)))

    ticket("1", "repair", "water", "submitted", 1, 3)
    ticket("1", "repair", "elevator", "submitted", 6, -2)  # past its SLA, not accepted
    ticket("3", "repair", "lighting", "reopened", 30, -20)  # past its SLA too
    ticket("3", "complaint", "noise", "in_progress", 50, -40)  # late, but accepted: not a breach
    ticket("2", "repair", "door", "closed", 100, -90)
    ticket("2", "complaint", "noise", "assigned", 2, 2)
    for status in ("collecting", "collecting", "under_review", "completed"):
        session.add(Wish(community_id=community_id, title="想要一个快递柜", resident_id=residents[1].id, status=status,
                         created_at=now - timedelta(days=2)))
    zone = ParkingZone(community_id=community_id, code="north", name="北门停车场", fixed_capacity=20,
                       temporary_capacity=10, fixed_occupied=15, temporary_occupied=4, updated_at=now,
                       last_event_at=now)
    session.add(zone)
    session.flush()
    for minutes_ago, used in ((20, 12), (80, 24)):
        bucket = (now - timedelta(minutes=minutes_ago)).replace(second=0, microsecond=0)
        bucket -= timedelta(minutes=bucket.minute % 5)
        session.add(ZoneSample(zone_id=zone.id, bucket=bucket, fixed_occupied=used, temporary_occupied=0, at=bucket))
    clinic = build_clinic(session, community_id)
    today = local_day_start(now)
    for i, (status, offset) in enumerate((("booked", 9), ("checked_in", 10), ("cancelled", 11), ("booked", 30))):
        slot = clinic.slot(session, "blood_pressure", today + timedelta(hours=offset), capacity=5)
        session.add(Booking(community_id=community_id, slot_id=slot.id, resident_id=residents[i].id,
                            service_id=slot.service_id, status=status, starts_at=slot.starts_at, ends_at=slot.ends_at))
    for i, urgent in ((3, True), (4, False)):
        conversation = Conversation(channel="oa", openid=residents[i].oa_openid, resident_id=residents[i].id)
        session.add(conversation)
        session.flush()
        escalate(session, conversation, trigger="human", text="我要找人工", now=now, urgent=urgent)
    campaign = Campaign(community_id=community_id, title="停水通知", audience="all", body="明天停水", status="sent",
                        total=3, fanout_done=True, finished_at=now - timedelta(days=1))
    session.add(campaign)
    session.flush()
    for r, status in zip(residents[:3], ("sent", "sent", "failed"), strict=True):
        session.add(Delivery(campaign_id=campaign.id, resident_id=r.id, status=status))
    for code, number, online in (("cam-1", "1", True), ("smoke-3", "3", False), ("leak-3", "3", False)):
        session.add(Device(community_id=community_id, code=code, kind="camera", name=code, online=online,
                           building_id=world.buildings[number], location=f"{number}幢"))
    session.flush()
    raise_alarm(session, community_id=community_id, type="falling_object", severity="critical", now=now,
                building_id=world.buildings["1"], location="1幢东侧")
    raise_alarm(session, community_id=community_id, type="water_leak", severity="minor", now=now,
                building_id=world.buildings["3"], location="3幢地下室")
    cleared = raise_alarm(session, community_id=community_id, type="smoke", severity="major", now=now,
                          building_id=world.buildings["2"], location="2幢楼道")
    cleared.state = "cleared"
    old = residents[0]
    watch = WelfareWatch(community_id=community_id, resident_id=old.id, building="1", consent_by="本人",
                         consented_at=now, last_activity_at=now, timer_from=now)
    session.add(watch)
    session.flush()
    session.add(WelfareCheck(community_id=community_id, watch_id=watch.id, resident_id=old.id, building="1",
                             status="open", level=0, crossed_at=now, raised_at=now))
    session.flush()
    return world
