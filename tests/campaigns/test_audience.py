"""The audience expression parser: valid expressions, their trees, and errors that point at the spot."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.campaigns.audience import Age, And, AudienceError, HasTag, Not, Or, parse, render

TAG_NAMES = st.sampled_from(["building:30", "building:7", "health:red", "interest:chess", "has_vehicle",
                             "moved_out", "unit:30-2", "age:60-69", "兴趣:广场舞"])
LEAVES = TAG_NAMES.map(HasTag) | st.builds(Age, st.sampled_from([">=", "<=", ">", "<", "=", "!="]),
                                           st.integers(0, 120))
TREES = st.recursive(
    LEAVES,
    lambda sub: st.builds(Not, sub) | st.builds(And, sub, sub) | st.builds(Or, sub, sub),
    max_leaves=12,
)


def test_the_issue_example():
    tree = parse("building:30 AND (age>=60 OR health:red) AND NOT tag:moved_out")
    assert tree == And(
        And(HasTag("building:30"), Or(Age(">=", 60), HasTag("health:red"))),
        Not(HasTag("moved_out")),
    )


@pytest.mark.parametrize(("text", "tree"), [
    ("has_vehicle", HasTag("has_vehicle")),
    ("tag:building:30", HasTag("building:30")),
    ("age < 18", Age("<", 18)),
    ("age!=60", Age("!=", 60)),
    ("a OR b AND c", Or(HasTag("a"), And(HasTag("b"), HasTag("c")))),  # AND binds tighter
    ("NOT a AND b", And(Not(HasTag("a")), HasTag("b"))),  # NOT binds tightest
    ("NOT NOT a", Not(Not(HasTag("a")))),
    ("a or b and not c", Or(HasTag("a"), And(HasTag("b"), Not(HasTag("c"))))),  # keywords in any case
    ("（building:3 OR building:4）AND age>=70", And(Or(HasTag("building:3"), HasTag("building:4")), Age(">=", 70))),
    ("兴趣:广场舞", HasTag("兴趣:广场舞")),
    ("age:60-69", HasTag("age:60-69")),  # the system age-band tag, not a comparison
])
def test_valid(text, tree):
    assert parse(text) == tree


@pytest.mark.parametrize(("text", "position"), [
    ("", 0),
    ("   ", 0),
    ("building:30 AND", 15),
    ("AND building:30", 0),
    ("(building:30", 12),
    ("building:30)", 11),
    ("building:30 health:red", 12),
    ("age >= old", 7),
    ("age >= ", 7),
    ("age => 60", 5),
    ("building = 30", 9),
    ("tag:", 4),
    ("a AND (b OR )", 12),
    ("a ! b", 2),
    ("()", 1),
    ("age>=1000", 5),
])
def test_invalid_points_at_the_position(text, position):
    with pytest.raises(AudienceError) as err:
        parse(text)
    assert err.value.position == position
    assert err.value.details == {"position": position}
    assert err.value.code == "audience_invalid" and err.value.status == 422
    assert f"第 {position + 1} 个字符" in err.value.message


def test_too_deep_and_too_long_are_errors_not_crashes():
    with pytest.raises(AudienceError):
        parse("(" * 200 + "a" + ")" * 200)
    with pytest.raises(AudienceError):
        parse("NOT " * 200 + "a")
    with pytest.raises(AudienceError):
        parse(" OR ".join(["building:1"] * 300))


@given(TREES)
def test_render_parses_back_to_the_same_tree(tree):
    assert parse(render(tree)) == tree


@given(st.text(max_size=40))
def test_arbitrary_text_parses_or_raises_audience_error(text):
    try:
        parse(text)
    except AudienceError as err:
        assert 0 <= err.position <= len(text)
