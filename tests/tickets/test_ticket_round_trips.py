"""What a repair reported through the mini-program costs the database, pinned so it cannot creep back
(issue 21: ticket creation is a hot path). Counted as round trips: BEGIN, each statement, COMMIT
(tests/round_trips.py). One read brings the token's version with the resident and their address; the
ticket's number, status and worker go out in one UPDATE; its timeline in one INSERT; the reply is built
from what the request already holds (no reading back the events, photos or worker)."""

from __future__ import annotations

from round_trips import counting

from app.core.db import db
from app.tickets.models import RoutingRule

REPAIR = {"kind": "repair", "category": "water", "description": "厨房水管漏水", "at_home": True}


def test_a_rotated_repair_from_the_mini_program(client, db_session, make_resident, make_staff, login):
    wang = make_resident("3", "2", "1201", name="王阿姨", wxa_openid="wxa_wang")
    for name in ("王师傅", "赵师傅"):
        make_staff("repair_worker").name = name
    db_session.add(RoutingRule(community_id=wang.community_id, kind="repair", mode="rotation", position=1))
    db_session.commit()
    headers = login("wang")
    for _ in range(2):  # each worker's first turn is an insert; from then on an update
        client.post("/api/v1/tickets", json=REPAIR, headers=headers)
    db.session.remove()

    with counting(db.engine) as trips:
        response = client.post("/api/v1/tickets", json=REPAIR, headers=headers)
    body = response.get_json()
    assert response.status_code == 201, body
    assert body["status"] == "assigned" and body["assignee"] in ("王师傅", "赵师傅")
    assert [e["kind"] for e in body["timeline"]] == ["created", "assigned"]

    sent = trips.sent[:trips.sent.index("COMMIT") + 1]  # the request's own; the embedded relay's come after
    selects = [s for s in sent if s.startswith("SELECT")]
    assert selects[0].startswith("SELECT wxa_session.token_version") and "JOIN building" in selects[0]
    assert not any(s.startswith(("SELECT household", "SELECT unit", "SELECT building", "SELECT resident"))
                   for s in selects), trips  # the address came with the token check
    for table in ("ticket_event", "ticket_photo", "ticket_follower", "ticket_rating", "max(rotation_turn"):
        assert not any(table in s for s in selects), trips  # nothing read back that the request made
    assert sum(s.startswith("UPDATE ticket ") for s in sent) == 1, trips
    postgres = db.engine.dialect.name == "postgresql"  # SQLite inserts the events and jobs row by row
    assert sum(s.startswith("INSERT INTO ticket_event") for s in sent) == (1 if postgres else 2), trips
    assert len(sent) == (13 if postgres else 15), trips
