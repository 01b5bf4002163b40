import pytest

from sciencecity.engines.forecast import Point, Target, assess, linear_trend, meets


def test_linear_trend_is_least_squares():
    slope, intercept = linear_trend([Point(2020, 1.0), Point(2021, 3.0), Point(2022, 5.0)])
    assert slope == pytest.approx(2.0)
    assert slope * 2023 + intercept == pytest.approx(7.0)
    assert linear_trend([Point(2020, 1.0)]) is None


@pytest.mark.parametrize(("value", "comparator", "direction", "expected"), [
    (45.0, "gt", "higher", False), (45.1, "gt", "higher", True),
    (2000, "approx", "higher", True),   # 2100家左右: within 5 %
    (1990, "approx", "higher", False),
    (6.0, "eq", "higher", True), (5.9, "eq", "higher", False),
    (0.44, "le", "lower", True), (0.46, "le", "lower", False),
    (1, "range", "higher", True), (0, "range", "higher", False),
])
def test_meets_knows_comparator_and_direction(value, comparator, direction, expected):
    target = Target(comparator, 2025, value=2100 if comparator == "approx" else {"gt": 45.0, "eq": 6.0, "le": 0.45}.get(comparator),
                    low=1, high=2)
    assert meets(value, target, direction) is expected


def test_status_legend():
    target = Target("eq", 2025, value=2100)
    assert assess([], target).status == "no_data"
    assert assess([Point(2020, 1486), Point(2023, 2150)], target).status == "achieved"
    on_track = assess([Point(2020, 1486), Point(2021, 1620), Point(2022, 1750)], target)
    assert on_track.status == "on_track" and on_track.projected == pytest.approx(2146.67, abs=0.01)
    close = assess([Point(2020, 1486), Point(2022, 1700)], target)  # projects 2021 (≥ 80 % of the gap)
    assert close.status == "at_risk" and close.reason == "projection_close"
    short = assess([Point(2020, 1486), Point(2022, 1500)], target)
    assert short.status == "off_track" and short.reason == "projection_short"
    assert assess([Point(2022, 1500)], target).status == "at_risk"


def test_lower_is_better_indicator():
    target = Target("le", 2025, value=0.40)
    assert assess([Point(2020, 0.50), Point(2022, 0.45)], target, "lower").status == "on_track"
    assert assess([Point(2020, 0.50), Point(2022, 0.55)], target, "lower").status == "off_track"


def test_target_below_baseline_is_already_achieved():
    # The seed's R&D/GDP: 7.9 % in 2020 against a 6.0 % target.
    result = assess([Point(2020, 7.9)], Target("eq", 2025, value=6.0))
    assert result.status == "achieved"
