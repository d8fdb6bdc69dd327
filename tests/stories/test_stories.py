"""The conversation stories (tests/stories/flows/*.yaml) against the real /wechat door.

Design: one test runs every story and asserts the issue's bar, an overall pass rate of at least
97 %; its failure message lists each failing story with the turn, the reply and the unmet
expectation (`flask chat-stories --verbose` prints the same per flow). Per-story tests would fail the
build for the allowed 3 %, or need a list of known failures to keep in step with the flows; one
test on one xdist process (~30 s) leaves the other process the rest of the suite. The checks on the
stories themselves (well formed, 200 or more, every point of the issue covered) are separate tests.
"""

from __future__ import annotations

import logging

import pytest

from app.core.db import db
from stories.runner import format_table, run_all, run_story
from stories.stage import build_stage
from stories.story import Story, Turn, load, personas

PASS_RATE = 97.0
# the numbered examples of issue 15 and its Build bullets: every one is named by some story's covers
ISSUE_POINTS = {str(n) for n in range(1, 12)} | {
    "frame", "fallback", "handoff", "clarify", "emergency", "info", "parking", "wishes", "bookings", "typing"}
FLOWS = {"repair", "complaint", "wish", "parking", "car_notice", "booking", "booking_change", "ticket_status",
         "handoff", "emergency", "info", "small_talk", "fallback", "corrections", "side_questions", "typing"}


@pytest.fixture(scope="session")
def stage(fake_wechat):
    return build_stage(fake_wechat)


def test_stories_are_well_formed_and_cover_the_issue():
    stories = load()
    assert len(stories) >= 200
    assert {s.flow for s in stories} == FLOWS
    covered = {point for s in stories for point in s.covers}
    assert ISSUE_POINTS <= covered, f"not covered: {sorted(ISSUE_POINTS - covered)}"
    for story in stories:
        assert story.turns and any(t.say for t in story.turns), story.name
        assert story.effects or any(t.has or t.lacks or t.has_any for t in story.turns), \
            f"{story.name} expects nothing"


def test_the_story_suite_passes_at_least_97_percent(stage, clock, caplog):
    """All the stories in one test (one demo seed per process); first, proof that the runner can fail."""
    caplog.set_level(logging.WARNING, logger="werkzeug")  # the fake WeChat's access log would bury the report
    impossible = Story(name="impossible", flow="repair", resident="grandpa_he",
                       turns=[Turn(say="你好", has=["这句话不会出现在任何回复里"])], effects=[{"tickets": 1}])
    with stage.app.app_context():
        blind = run_story(stage, impossible, clock)
        results = run_all(stage, load(), clock)
        db.session.remove()
    assert not blind.passed and blind.turn == 1 and "这句话不会出现" in blind.problem
    assert blind.transcript[0][0] == "你好" and blind.transcript[0][1]
    failing = [r for r in results if not r.passed]
    rate = 100.0 * (len(results) - len(failing)) / len(results)
    report = format_table(results) + "\n\n" + "\n\n".join(r.explain() for r in failing)
    print(report)
    assert rate >= PASS_RATE, f"story pass rate {rate:.1f} % < {PASS_RATE} %\n{report}"


def test_the_command_prints_the_table_per_flow_and_the_failing_stories():
    from click.testing import CliRunner

    from bots.stories_cli import stories_command

    result = CliRunner().invoke(stories_command, ["--flow", "small_talk"])
    lines = result.output.splitlines()
    assert lines[0].split() == ["flow", "stories", "passed", "%"]
    [row] = [line.split() for line in lines if line.startswith("small_talk")]
    [total] = [line.split() for line in lines if line.startswith("all")]
    assert row[:2] == ["small_talk", "13"] and total[:2] == ["all", "13"]
    failed = 13 - int(row[2])
    assert len([line for line in lines if line.startswith("FAIL small_talk/")]) == failed
    assert result.exit_code == (0 if 100.0 * int(row[2]) / 13 >= 97.0 else 1)
    assert "no stories" in CliRunner().invoke(stories_command, ["--flow", "nope"]).output


def test_the_demo_has_the_residents_and_plates_the_readme_names():
    """residents.yaml and the README speak of the demo's generated people and plates: they must exist."""
    from app.community.demo import demo_residents
    from app.parking.demo import DEMO_PLATES

    people = {p.oa_openid: p for p in demo_residents() if p.oa_openid}
    for key, persona in personas().items():
        if persona["openid"].startswith("o_demo_"):
            person = people[persona["openid"]]
            assert person.name in persona["who"], key
            assert f"{person.building}幢{person.unit}单元{person.room}" in persona["who"], key
    assert set(DEMO_PLATES) == {"浙A3K512", "浙A8M267", "浙AD12345", "浙A5Q901", "浙B6T338"}
    mini = {p.wxa_openid: p.name for p in demo_residents() if p.wxa_openid}
    assert {mini[f"w_demo_{n}"] for n in ("0007", "0008", "0021", "0026", "0030", "0037", "0042", "0058")} == {
        "沈思远", "姚杰", "叶丹", "顾斌", "韩琳", "钱建锋", "罗红霞", "刘婷婷"}
