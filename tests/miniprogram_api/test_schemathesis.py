"""A bounded schemathesis run over every /api/v1 operation, as a signed-in resident of a small community.

Each operation gets derandomised examples (positive and negative) from the OpenAPI document, sent with
a resident's token to the app (the fake WeChat on loopback answers logins). Every response must be no
server error, a declared status with a declared content type, and match its declared schema; negative
data must be refused. A positive case may still be refused for what only the data can tell (a slot that
is full, a building the community has not): never with a schema-level code, which would mean the document
promises what validation refuses.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from clinic_world import build_clinic
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import CheckContext
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi import checks

import config
from app import create_app
from app.core.clock import utcnow
from app.parking import car_notices
from app.tickets import tickets
from app.tickets.records import Location
from app.wishes import wishes
from app.wishes.models import FacilityItem
from miniprogram_api import build_document

MAX_EXAMPLES = 25
SCHEMA_CODES = {"missing_field", "invalid_field", "invalid_character", "malformed_json"}


@pytest.fixture
def seeded(app, db_session, make_resident, make_community):
    """王阿姨 bound to 3幢2单元1201 with a ticket, a wish, a built facility, bookable clinic slots, a car;
    and her neighbour's shared-area ticket to follow. Ids start at 1, which hypothesis tries first."""
    community = make_community("和睦新村")
    wang = make_resident("3", "2", "1201", name="王阿姨", phone="13800000001", wxa_openid="wxa_wang",
                         community=community)
    li = make_resident("3", "1", "301", name="李建国", phone="13800000002", community=community)
    clinic = build_clinic(db_session, community.id)
    start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    for hours in (0, 1, 2):
        clinic.slot(db_session, "ecg", start + timedelta(hours=hours), capacity=3)
    clinic.slot(db_session, "blood_pressure", start, capacity=1, booked=1)  # full: for the waitlist
    tickets.create_ticket(db_session, resident=wang, kind="repair", category="water", description="厨房水管漏水",
                          location=Location("3", "2", "1201", "家中"), source="wxa")
    tickets.create_ticket(db_session, resident=li, kind="repair", category="elevator", description="3幢电梯坏了",
                          location=Location(building="3", place="电梯"), source="wxa")
    db_session.add(FacilityItem(community_id=community.id, name="自助打印机", built=True))
    db_session.flush()
    wishes.create_wish(db_session, wang, title="篮球场", source="wxa")
    car_notices.register_vehicle(db_session, li, "浙A12345")
    db_session.commit()
    return wang


# The document depends only on the routes, so an app built at collection gives it (schemathesis' lazy
# from_fixture loader does not run under pytest 9); every case is sent to the `app` fixture, seeded.
schema = schemathesis.openapi.from_dict(build_document(create_app(config.TestConfig())))


def no_schema_code_for_positive_data(ctx: CheckContext, response, case) -> bool | None:
    """Data the document calls valid is never refused with a schema-level code (the document would lie)."""
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return None
    if response.status_code in (400, 422):
        code = (response.json() or {}).get("error", {}).get("code")
        assert code not in SCHEMA_CODES, f"valid data refused: {response.status_code} {response.text}"
    return None


@pytest.fixture
def wang_headers(seeded, login) -> dict:
    """王阿姨's Authorization header, from a login through the fake WeChat."""
    return login("wang")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, app, wang_headers):
    case.operation.schema.app = case.operation.app = app  # the session's app (the `app` fixture), seeded
    # a negative case may be one without the Authorization the document requires: then it goes without
    headers = {} if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER) else wang_headers
    case.call_and_validate(headers=headers, additional_checks=[no_schema_code_for_positive_data],
                           excluded_checks=[checks.positive_data_acceptance])

