"""The rules' pure parts: the one threshold (hysteresis, duration, minimum on/off times), the rolling window,
silence, and the façade geometry (homography, the fitted start, the grid's shares)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from app.core.clock import utcnow
from app.core.errors import ValidationFailed
from app.devices import falling, sensors, simulate
from app.devices.sensors import Threshold, step

# a moment from the one clock (noon in Shanghai, outside quiet hours); the rules only compare times
T0 = utcnow().replace(hour=4, minute=0, second=0, microsecond=0)


@dataclass
class _Track:
    active: bool = False
    changed_at: datetime | None = None
    pending_since: datetime | None = None


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_hysteresis_band_keeps_the_state():
    rule, track = Threshold(75, 60), _Track()
    assert step(rule, track, 75, _at(0)) is None  # not above
    assert step(rule, track, 76, _at(1)) == "on"
    assert step(rule, track, 61, _at(2)) is None and track.active  # inside the band: stays on
    assert step(rule, track, 59.9, _at(3)) == "off"
    assert step(rule, track, 70, _at(4)) is None and not track.active  # inside the band: stays off


def test_duration_condition_restarts_when_the_value_dips():
    rule, track = Threshold(55, 50, for_s=60), _Track()
    assert step(rule, track, 56, _at(0)) is None
    assert step(rule, track, 57, _at(59)) is None
    assert step(rule, track, 54, _at(61)) is None and track.pending_since is None  # dipped below: start again
    assert step(rule, track, 56, _at(70)) is None
    assert step(rule, track, 56, _at(129)) is None
    assert step(rule, track, 56, _at(130)) == "on"


def test_minimum_on_and_off_times():
    rule, track = Threshold(75, 60, min_on_s=600, min_off_s=300), _Track()
    assert step(rule, track, 90, _at(0)) == "on"
    assert step(rule, track, 40, _at(599)) is None and track.active  # on for less than 10 minutes
    assert step(rule, track, 40, _at(600)) == "off"
    assert step(rule, track, 90, _at(899)) is None  # off for less than 5 minutes
    assert step(rule, track, 90, _at(900)) == "on"


def test_settings_override_the_rule():
    rule = Threshold(55, 50, for_s=60).with_settings({"for_s": 10, "on_above": 60, "nonsense": 3, "min_on_s": "x"})
    assert (rule.on_above, rule.off_below, rule.for_s, rule.min_on_s) == (60, 50, 10, 0)


def test_rolling_window_and_silence():
    samples = []
    for i, value in enumerate([10, 20, 30, 100]):
        samples = sensors.add_sample(samples, value, _at(i * 300), 900)
    assert len(samples) == 3  # the first (0 s) left the 15-minute window at 900 s
    assert sensors.mean(samples, _at(900), 900) == pytest.approx(50)
    assert sensors.mean(samples, _at(3000), 900) is None
    assert not sensors.silent(_at(0), _at(179), 60) and sensors.silent(_at(0), _at(180), 60)
    assert not sensors.silent(None, _at(10_000), 60)


def test_homography_maps_the_corners_and_back():
    h = falling.homography(simulate.CORNERS)
    for (x, y), (u, v) in zip(simulate.CORNERS, falling.UNIT_SQUARE, strict=True):
        assert falling.project(h, x, y) == pytest.approx((u, v), abs=1e-9)
    back = falling.homography(falling.UNIT_SQUARE, simulate.CORNERS)
    x, y = falling.project(back, 0.3, 0.7)
    assert falling.project(h, x, y) == pytest.approx((0.3, 0.7), abs=1e-9)


def test_start_is_the_fitted_apex_not_the_first_point():
    track = simulate.trajectory(floor=12, column=2)
    first = (track[0]["x"], track[0]["y"])
    x, y = falling.origin(track)
    assert y < first[1] - 5  # traced back up, above where the camera first saw it
    where = falling.locate(simulate.CORNERS, 18, 18, 4, x, y)
    assert (where.floor, where.column) == (12, 1) and where.confidence >= 0.5
    naive = falling.locate(simulate.CORNERS, 18, 18, 4, *first)
    assert naive.floor <= 12
    assert falling.origin([{"t": 0, "x": 5, "y": 6}]) == (5, 6)
    assert falling.origin([[0, 1, 2], ["bad"], None, "x"]) == (1, 2) and falling.origin("junk") is None
    assert falling.origin([]) is None


def test_a_point_near_a_column_edge_shares_its_confidence():
    back = falling.homography(falling.UNIT_SQUARE, simulate.CORNERS)
    centre = falling.locate(simulate.CORNERS, 18, 18, 4, *falling.project(back, 0.375, (6.5) / 18))
    assert centre.cells == [(12, 1, 1.0)]
    edge = falling.locate(simulate.CORNERS, 18, 18, 4, *falling.project(back, 0.49, (6.5) / 18))
    assert {(f, c) for f, c, _ in edge.cells} == {(12, 1), (12, 2)}
    assert 0.5 <= edge.confidence < 0.6
    outside = falling.locate(simulate.CORNERS, 18, 18, 4, 100, 500)
    assert outside.confidence <= 0.5  # left of the calibrated façade: halved


def test_corners_and_flats_are_checked():
    assert falling.parse_corners("412,88 1506,140 1490,1010 430,1042")[2] == [1490, 1010]
    with pytest.raises(ValidationFailed):
        falling.parse_corners("1,2 3,4")
    with pytest.raises(ValidationFailed):
        falling.parse_corners("412,88 1490,1010 1506,140 430,1042")  # crossed: not in order
    assert falling.parse_column_flats("1-01, 1-02，-  2-01", 4) == ["1-01", "1-02", "", "2-01"]
    assert falling.parse_column_flats("", 4) == []
    with pytest.raises(ValidationFailed):
        falling.parse_column_flats("1-01,1-02", 4)
    with pytest.raises(ValidationFailed):
        falling.parse_column_flats("1-01,<b>,1-02,2-01", 4)
