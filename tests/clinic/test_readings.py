"""Kiosk and device readings: only the keys a kind has, finite numbers within plausible ranges; anything
else is a 422 naming the field, nothing is stored, and NaN never reaches the colour thresholds."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.clinic import clinic
from app.clinic.models import MEASUREMENT_KINDS, KioskDevice, Measurement
from app.clinic.readings import READINGS
from app.core.db import db
from app.core.errors import ValidationFailed

URL = "/api/v1/clinic/kiosk/measurements"
KIOSK = {"X-Kiosk-Token": "kiosk-secret"}
GOOD = {"blood_pressure": {"systolic": 128, "diastolic": 82}, "blood_glucose": {"value": 5.4},
        "bmi": {"value": 23.1}, "uric_acid": {"value": 360}, "cholesterol": {"value": 5.1}}


@pytest.fixture
def wang(db_session, make_resident):
    """王阿姨, and a kiosk in her community."""
    resident = make_resident("3", "2", "1201", name="王阿姨", phone="13800000001")
    db_session.add(KioskDevice(community_id=resident.community_id, name="卫生站自助机",
                               token_hash=clinic.hash_device_token("kiosk-secret")))
    db_session.commit()
    return resident


def _stored() -> int:
    return db.session.scalar(select(func.count()).select_from(Measurement))


def _refused(session, resident, kind: str, values) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as refused:
        clinic.record_measurement(session, resident.id, kind, values)
    assert refused.value.status == 422
    return refused.value


def _post(client, kind: str, values) -> tuple[int, dict]:
    response = client.post(URL, headers=KIOSK, json={"phone": "13800000001", "kind": kind, "values": values})
    return response.status_code, response.get_json()


def _post_raw(client, raw: str) -> tuple[int, dict]:
    response = client.post(URL, headers=KIOSK, data=raw, content_type="application/json")
    return response.status_code, response.get_json()


# ---- the service --------------------------------------------------------------------------------

def test_every_measurement_kind_has_one_row_of_keys_and_ranges():
    assert set(READINGS) == set(MEASUREMENT_KINDS)
    for kind, fields in READINGS.items():
        assert fields and all(f.low < f.high and f.unit and f.label for f in fields.values()), kind


def test_readings_at_the_ends_of_each_range_are_stored_and_classified(db_session, wang):
    for kind, fields in READINGS.items():
        for end in ("low", "high"):
            values = {key: getattr(field, end) for key, field in fields.items()}  # systolic stays above diastolic
            reading = clinic.record_measurement(db_session, wang.id, kind, values)
            assert reading.values == values and reading.colour in ("green", "yellow", "red"), (kind, end)
    assert _stored() == 2 * len(READINGS)


def test_nan_and_infinity_are_refused_and_never_classified(db_session, wang):
    assert clinic.colour_for("blood_pressure", {"systolic": 128, "diastolic": 82}) == "green"
    for bad in (float("nan"), float("inf"), float("-inf")):
        for kind, values in GOOD.items():
            for key in values:
                refused = _refused(db_session, wang, kind, {**values, key: bad})
                assert refused.code == "bad_measurement" and refused.details == {"field": key}, (kind, key)
        with pytest.raises(ValidationFailed):  # NaN used to be classified green
            clinic.colour_for("blood_pressure", {"systolic": bad, "diastolic": bad})
    assert _stored() == 0 and clinic.colour_of(db_session, wang.id) is None


@pytest.mark.parametrize("bad", [True, False, "128", "high", None, [128], {"mmHg": 128}])
def test_booleans_strings_and_other_non_numbers_are_refused(db_session, wang, bad):
    refused = _refused(db_session, wang, "blood_pressure", {"systolic": bad, "diastolic": 82})
    assert refused.code == "bad_measurement" and refused.details == {"field": "systolic"}
    assert "收缩压" in refused.message
    assert _stored() == 0


@pytest.mark.parametrize(("kind", "values", "field"), [
    ("blood_pressure", {"systolic": -5, "diastolic": 80}, "systolic"),
    ("blood_pressure", {"systolic": 49, "diastolic": 40}, "systolic"),
    ("blood_pressure", {"systolic": 261, "diastolic": 90}, "systolic"),
    ("blood_pressure", {"systolic": 120, "diastolic": 29}, "diastolic"),
    ("blood_pressure", {"systolic": 250, "diastolic": 161}, "diastolic"),
    ("blood_pressure", {"systolic": 120, "diastolic": 80, "pulse": 250}, "pulse"),
    ("blood_pressure", {"systolic": 120, "diastolic": 80, "pulse": 10**400}, "pulse"),  # no float overflow
    ("blood_glucose", {"value": 0.9}, "value"),
    ("blood_glucose", {"value": 110}, "value"),  # mg/dL sent as mmol/L
    ("bmi", {"value": 1e308}, "value"),
    ("bmi", {"value": 7.9}, "value"),
    ("uric_acid", {"value": 6.5}, "value"),  # mg/dL sent as umol/L
    ("cholesterol", {"value": 200}, "value"),  # mg/dL sent as mmol/L
])
def test_implausible_values_are_refused_naming_the_field(db_session, wang, kind, values, field):
    refused = _refused(db_session, wang, kind, values)
    assert refused.code == "implausible_reading" and refused.details == {"field": field}
    assert READINGS[kind][field].label in refused.message and READINGS[kind][field].unit in refused.message
    assert _stored() == 0


@pytest.mark.parametrize(("systolic", "diastolic"), [(120, 120), (80, 120)])
def test_systolic_must_be_above_diastolic(db_session, wang, systolic, diastolic):
    refused = _refused(db_session, wang, "blood_pressure", {"systolic": systolic, "diastolic": diastolic})
    assert refused.code == "implausible_reading" and "收缩压" in refused.message and "舒张压" in refused.message


def test_unknown_keys_are_refused_and_not_stored(db_session, wang):
    refused = _refused(db_session, wang, "blood_pressure", {"systolic": 128, "diastolic": 82, "note": "<b>x</b>"})
    assert refused.code == "unknown_field" and refused.details == {"field": "note"} and "note" in refused.message
    flood = {f"k{i}": 1 for i in range(10_000)} | {"value": 5.4}
    assert _refused(db_session, wang, "blood_glucose", flood).code == "unknown_field"
    assert _refused(db_session, wang, "bmi", {"systolic": 120}).code == "unknown_field"  # another kind's key
    missing = _refused(db_session, wang, "blood_pressure", {"systolic": 128})
    assert missing.code == "bad_measurement" and missing.details == {"field": "diastolic"}
    assert _refused(db_session, wang, "blood_glucose", [5.4]).code == "bad_measurement"
    assert _stored() == 0


# ---- through the kiosk's route ------------------------------------------------------------------

def test_the_kiosk_stores_a_plausible_reading_with_only_its_keys(client, wang):
    status, body = _post(client, "blood_pressure", {"systolic": 168, "diastolic": 96, "pulse": 72})
    assert status == 201 and body["colour"] == "red" and body["resident_colour"] == "red"
    [stored] = db.session.scalars(select(Measurement)).all()
    assert stored.values == {"systolic": 168, "diastolic": 96, "pulse": 72} and stored.device_id is not None


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_json_nan_and_infinity_come_back_4xx_never_500(client, wang, constant):
    """NaN and Infinity are not JSON: the body is malformed (400); 1e400 is JSON, read as infinity: 422."""
    raw = f'{{"phone": "13800000001", "kind": "blood_pressure", "values": {{"systolic": {constant}, "diastolic": 80}}}}'
    status, body = _post_raw(client, raw)
    if constant == "1e400":
        assert status == 422 and body["error"]["code"] == "bad_measurement"
        assert body["error"]["details"] == {"field": "systolic"} and "收缩压" in body["error"]["message"]
    else:
        assert (status, body["error"]["code"]) == (400, "malformed_json")
    glucose = f'{{"phone": "13800000001", "kind": "blood_glucose", "values": {{"value": {constant}}}}}'
    assert _post_raw(client, glucose)[0] in (400, 422)
    for elsewhere in (f'{{"phone": {constant}, "kind": "bmi", "values": {{"value": 23}}}}',
                      f'{{"phone": "13800000001", "kind": {constant}, "values": {{"value": 23}}}}',
                      f'{{"phone": "13800000001", "kind": "bmi", "values": {constant}}}'):
        status, _ = _post_raw(client, elsewhere)
        assert 400 <= status < 500, elsewhere
    assert _stored() == 0


@pytest.mark.parametrize(("kind", "values", "code", "field", "words"), [
    ("blood_pressure", {"systolic": -5, "diastolic": 80}, "implausible_reading", "systolic", "收缩压"),
    ("bmi", {"value": 1e308}, "implausible_reading", "value", "BMI"),
    ("blood_pressure", {"systolic": 90, "diastolic": 120}, "implausible_reading", "systolic", "舒张压"),
    ("blood_glucose", {"value": True}, "bad_measurement", "value", "血糖"),
    ("blood_glucose", {"value": "5.4"}, "bad_measurement", "value", "血糖"),
    ("cholesterol", {"value": 5.1, "ldl": 3.0}, "unknown_field", "ldl", "ldl"),
])
def test_the_kiosk_refuses_with_a_stable_code_naming_the_field(client, wang, kind, values, code, field, words):
    status, body = _post(client, kind, values)
    assert status == 422 and body["error"]["code"] == code
    assert body["error"]["details"] == {"field": field} and words in body["error"]["message"]
    assert _stored() == 0


def test_the_kiosk_refuses_ten_thousand_unknown_keys(client, wang):
    flood = {f"k{i}": i for i in range(10_000)}
    status, body = _post(client, "blood_pressure", {"systolic": 128, "diastolic": 82, **flood})
    assert status == 422 and body["error"]["code"] == "unknown_field"
    assert body["error"]["details"] == {"field": "k0"} and _stored() == 0  # the first one named, nothing kept
