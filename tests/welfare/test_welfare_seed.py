"""The demo seed: the residents tagged 独居老人 watched with consent, each with a door lock; one due for a check
on the first sweep, one in hospital, one whose flat lock's low battery becomes a repair ticket; once."""

from __future__ import annotations

from sqlalchemy import func, select

from app.community.demo import seed_demo, steps
from app.core.clock import utcnow
from app.devices.models import Device
from app.tickets.models import Ticket
from app.welfare.demo import seed_welfare
from app.welfare.models import WelfareCheck, WelfareWatch
from app.welfare.sweep import sweep


def test_the_demo_watches_the_residents_living_alone_and_one_is_due(app, db_session):
    assert seed_welfare in steps()
    seed_demo(db_session)
    db_session.commit()
    watches = list(db_session.scalars(select(WelfareWatch).order_by(WelfareWatch.id)))
    assert len(watches) >= 5
    assert all(w.consent_by and w.consented_at and w.family_phone for w in watches)
    assert all(any(t.name == "独居老人" for t in w.resident.tags) for w in watches)
    locks = {d.household_id for d in db_session.scalars(select(Device).where(Device.kind == "door_lock"))}
    assert {w.household_id for w in watches} <= locks
    assert sum(w.mode == "hospital" for w in watches) == 1
    report = sweep(db_session, utcnow())
    db_session.commit()
    assert report.raised == 1 and report.orders == 1
    [check] = db_session.scalars(select(WelfareCheck)).all()
    assert check.silent and check.watch_id == watches[0].id
    assert "电量低" in db_session.scalar(select(Ticket.description).where(Ticket.source == "device"))
    seed_demo(db_session)
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(WelfareWatch)) == len(watches)
