"""Audiences naming a health tag: only doctors within their scope may count, preview or send them; previews
show the count, never who; every read and every refused attempt is in the health-data access log."""

from __future__ import annotations

import itertools

import pytest
from console_forms import csrf_token, login, post
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from app.campaigns import audience
from app.campaigns import campaigns as svc
from app.campaigns.audience import Age, And, HasTag, Not, Or
from app.campaigns.models import Campaign
from app.clinic import clinic
from app.clinic.models import HealthAccessLog
from app.community.models import Community, Resident, Tag, resident_tag
from app.core.db import db
from app.core.errors import Forbidden
from console.csrf import HEADER

RED = {"systolic": 170, "diastolic": 105}
GREEN = {"systolic": 118, "diastolic": 76}
B3_NAMES = ("王阿姨", "李伯伯", "赵奶奶")


@pytest.fixture
def town(db_session, make_community, make_resident, make_staff):
    """Building 3: three red residents and a green one; building 8: one red resident. Property staff and a
    doctor scoped to building 8, a doctor scoped to building 3, an admin."""
    community = make_community()
    people = [make_resident("3", "1", f"10{i}", name=name, community=community) for i, name in enumerate(B3_NAMES)]
    green = make_resident("3", "2", "201", name="钱爷爷", community=community)
    eight = make_resident("8", "1", "301", name="孙奶奶", community=community)
    for person in (*people, eight):
        clinic.record_measurement(db_session, person.id, "blood_pressure", RED)
    clinic.record_measurement(db_session, green.id, "blood_pressure", GREEN)
    staff = {
        "clerk8": make_staff("property", username="clerk8", buildings=["8"], community=community),
        "dr3": make_staff("doctor", username="dr3", buildings=["3"], community=community),
        "dr8": make_staff("doctor", username="dr8", buildings=["8"], community=community),
        "admin": make_staff("admin", username="boss", community=community),
    }
    db_session.commit()
    return {"community": community, "b3": people, "green": green, "eight": eight, **staff}


def _as(client, username: str):
    assert login(client, username).status_code == 303
    return client


def _preview_api(client, expr: str):
    return client.post("/console/api/campaigns/preview", json={"audience": expr}, headers={HEADER: csrf_token(client)})


def _log() -> list[HealthAccessLog]:
    db.session.expire_all()
    return list(db.session.scalars(select(HealthAccessLog).order_by(HealthAccessLog.id)))


def _nothing_of_building_3(text: str) -> None:
    for name in B3_NAMES:
        assert name not in text
    assert "3幢" not in text


def test_property_staff_of_building_8_cannot_preview_building_3_by_health(client, town):
    _as(client, "clerk8")
    page = post(client, "/console/campaigns/new", {"action": "preview", "title": "t", "body": "b",
                                                   "audience": "building:3 AND health:red"})
    body = page.get_data(as_text=True)
    assert page.status_code == 403 and "health_audience_forbidden" in body and "家庭医生" in body
    _nothing_of_building_3(body)
    api = _preview_api(client, "building:3 AND health:red")
    assert api.status_code == 403
    error = api.get_json()["error"]
    assert error["code"] == "health_audience_forbidden" and "家庭医生" in error["message"]
    _nothing_of_building_3(api.get_data(as_text=True))
    assert "count" not in api.get_json()
    refused = _log()
    assert [(r.staff_id, r.action, r.purpose, r.resident_id) for r in refused] == [
        (town["clerk8"].id, "refused", "campaign_preview", None)] * 2
    assert refused[0].ip == "127.0.0.1" and refused[0].session_ref and "health:red" in refused[0].detail


@pytest.mark.parametrize("expr", [
    "health:red", "tag:health:red", "HEALTH:RED", "Tag:Health:Yellow", "building:3 AND NOT health:green",
    "（building:3 or health:red）", "ｈｅａｌｔｈ：ｒｅｄ", "tag:tag:health:red", "health",
])
def test_every_spelling_of_a_health_tag_is_refused_to_senders(client, town, expr):
    _as(client, "boss")  # admins do not read health files in the clinic either
    answer = _preview_api(client, expr)
    assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "health_audience_forbidden"


def test_senders_cannot_save_or_schedule_a_health_audience(client, town, db_session):
    _as(client, "boss")
    headers = {HEADER: csrf_token(client)}
    made = client.post("/console/api/campaigns", json={"title": "体检", "body": "{name}您好",
                                                       "audience": "building:3 AND health:red"}, headers=headers)
    assert made.status_code == 403 and made.get_json()["error"]["code"] == "health_audience_forbidden"
    page = post(client, "/console/campaigns/new", {"action": "save", "title": "体检", "body": "{name}您好",
                                                   "audience": "health:red"})
    assert page.status_code == 403
    assert db_session.scalars(select(Campaign)).all() == []
    assert [(r.action, r.purpose) for r in _log()] == [("refused", "campaign_draft")] * 2


def test_a_health_draft_from_before_is_neither_counted_nor_sent_by_senders(client, town, db_session):
    draft = svc.create_draft(db_session, town["community"].id, title="随访", body="{name}您好",
                             audience_expr="building:3 AND health:red", staff_id=town["dr3"].id)
    db_session.commit()
    _as(client, "boss")
    show = client.get(f"/console/campaigns/{draft.id}").get_data(as_text=True)
    assert 'id="audience-size-hidden"' in show and 'id="audience-size"' not in show
    scheduled = client.post(f"/console/api/campaigns/{draft.id}/schedule", json={},
                            headers={HEADER: csrf_token(client)})
    assert scheduled.status_code == 403 and scheduled.get_json()["error"]["code"] == "health_audience_forbidden"
    assert post(client, f"/console/campaigns/{draft.id}/schedule", {"at": ""}).status_code == 403
    db_session.expire_all()
    assert db_session.get(Campaign, draft.id).status == "draft"
    with pytest.raises(Forbidden):  # no one named: nobody may send it
        svc.schedule(db_session, town["community"].id, draft.id)
    assert [(r.action, r.purpose) for r in _log()] == [
        ("count", "campaign_draft"), ("refused", "campaign_send"), ("refused", "campaign_send")]


def test_a_doctor_within_scope_sees_the_count_only_and_the_read_is_logged(client, town):
    _as(client, "dr3")
    page = post(client, "/console/campaigns/new", {"action": "preview", "title": "t", "body": "b",
                                                   "audience": "building:3 AND health:red"})
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="preview-count">3<' in body and 'id="sample-withheld"' in body
    _nothing_of_building_3(body.replace('building:3', ''))
    assert "保存草稿" not in body  # doctors count, senders send
    api = _preview_api(client, "building:3 AND health:red")
    assert api.status_code == 200
    assert api.get_json() == {"expression": "(tag:building:3 AND tag:health:red)", "count": 3,
                              "sample_withheld": True, "sample": []}
    rows = _log()
    assert [(r.staff_id, r.action, r.purpose, r.resident_id) for r in rows] == [
        (town["dr3"].id, "count", "campaign_preview", None)] * 2
    assert all(r.ip == "127.0.0.1" and r.session_ref for r in rows)
    assert rows[0].session_ref == rows[1].session_ref  # one sign-in
    assert rows[0].detail == "(tag:building:3 AND tag:health:red)"  # what was asked, not what it found


def test_a_doctor_outside_their_scope_is_refused(client, town):
    _as(client, "dr8")
    for expr in ("building:3 AND health:red", "health:red", "NOT health:green", "building:8 OR health:red"):
        answer = _preview_api(client, expr)
        assert answer.status_code == 403, expr
        assert answer.get_json()["error"]["code"] == "audience_out_of_scope"
        _nothing_of_building_3(answer.get_data(as_text=True))
    page = post(client, "/console/campaigns/new", {"action": "preview", "title": "t", "body": "b",
                                                   "audience": "building:3 AND health:red"})
    assert page.status_code == 403 and "audience_out_of_scope" in page.get_data(as_text=True)
    assert {(r.action, r.purpose) for r in _log()} == {("refused", "campaign_preview")}
    assert _preview_api(client, "building:8 AND health:red").get_json()["count"] == 1


def test_the_scope_decision_never_depends_on_colours(client, town, db_session):
    """Whether building 3 has red residents or not, the building-8 doctor gets the same 403: the refusal
    is no oracle for colours outside the scope."""
    _as(client, "dr8")
    before = _preview_api(client, "building:3 AND health:yellow")  # nobody in building 3 is yellow
    after = _preview_api(client, "building:3 AND health:red")
    assert before.status_code == after.status_code == 403
    assert before.get_json()["error"]["code"] == after.get_json()["error"]["code"]


def test_doctors_see_counts_of_plain_audiences_only_within_scope_and_never_names(client, town):
    _as(client, "dr3")
    mine = _preview_api(client, "building:3")
    assert mine.status_code == 200 and mine.get_json()["count"] == 4 and mine.get_json()["sample"] == []
    assert _preview_api(client, "building:8").status_code == 403
    assert _log() == []  # no health data was read
    headers = {HEADER: csrf_token(client)}
    assert client.post("/console/api/campaigns", json={"title": "t", "body": "b", "audience": "building:3"},
                       headers=headers).status_code == 403
    assert client.get("/console/api/campaigns").status_code == 403


def test_plain_audiences_behave_as_before_for_senders(client, town):
    _as(client, "clerk8")
    answer = _preview_api(client, "building:3 AND age>=0")
    assert answer.status_code == 200 and answer.get_json()["count"] == 4
    assert answer.get_json()["sample_withheld"] is False
    assert {s["name"] for s in answer.get_json()["sample"]} == {*B3_NAMES, "钱爷爷"}
    assert _log() == []


def test_previews_of_health_audiences_show_no_one_whoever_asks(db_session, town):
    result = audience.preview(db_session, town["community"].id, "building:3 AND health:red")
    assert result["count"] == 3 and result["sample"] == [] and result["sample_withheld"] is True
    assert audience.names_health(audience.parse("age>=60 OR NOT tag:health:green"))
    assert not audience.names_health(audience.parse("building:3 AND interest:healthy_walk"))


# ----- reach: every resident an audience could select, whatever the colours --------------------
POOL = ["building:1", "building:2", "health:red", "health:yellow", "health:green", "interest:chess"]
LEAVES = st.sampled_from(POOL).map(HasTag) | st.builds(Age, st.sampled_from([">=", "<"]), st.integers(0, 100))
TREES = st.recursive(LEAVES, lambda s: st.builds(Not, s) | st.builds(And, s, s) | st.builds(Or, s, s),
                     max_leaves=8)
PEOPLE = st.lists(st.tuples(st.integers(1920, 2026), st.frozensets(st.sampled_from(POOL[:2] + POOL[5:])),
                            st.sampled_from([None, "red", "yellow", "green"])), min_size=1, max_size=12)
_names = itertools.count(1)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=PEOPLE, tree=TREES)
def test_reach_holds_the_audience_whatever_the_colours(db_session, people, tree):
    community = Community(name=f"范围小区{next(_names)}")
    db_session.add(community)
    db_session.flush()
    tags = {name: Tag(community_id=community.id, name=name, kind="system") for name in POOL}
    residents = [Resident(community_id=community.id, name="住户", phone=f"136{next(_names):08d}", birth_year=by)
                 for by, _t, _c in people]
    db_session.add_all([*tags.values(), *residents])
    db_session.flush()
    links = [{"resident_id": r.id, "tag_id": tags[name].id} for r, (_by, names, colour) in zip(residents, people,
                                                                                               strict=True)
             for name in (*names, *([f"health:{colour}"] if colour else []))]
    if links:
        db_session.execute(insert(resident_tag), links)
    selected = set(db_session.scalars(audience.audience_select(community.id, tree, year=2026)))
    reached = set(db_session.scalars(select(Resident.id).where(audience.reach(community.id, tree, year=2026))))
    assert selected <= reached
    # reach reads no health tag: the same residents without any colour are reached alike
    db_session.execute(resident_tag.delete().where(resident_tag.c.tag_id.in_(
        [tags[n].id for n in POOL if n.startswith("health:")])))
    assert set(db_session.scalars(select(Resident.id).where(audience.reach(community.id, tree, year=2026)))) \
        == reached
