"""What-if costing against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from analytics_hub.analytics.forecast.base import Prediction
from analytics_hub.analytics.forecast.whatif import Scenario, Shift, project_cost, what_if
from analytics_hub.errors import ValidationError


def _usage(mean: list[float], lower: list[float], upper: list[float]) -> Prediction:
    return Prediction(np.array(mean), np.array(lower), np.array(upper), 0.95)


USAGE = {
    # thousands of tokens per hour, two hours
    "big": _usage([10.0, 20.0], [8.0, 15.0], [12.0, 25.0]),
    "small": _usage([100.0, 100.0], [90.0, 80.0], [110.0, 120.0]),
}
PRICES = {"big": 3.0, "small": 0.5, "tiny": 0.1}


def test_baseline_cost_is_usage_times_price() -> None:
    out = project_cost(USAGE, PRICES)
    assert out.mean == pytest.approx([3 * 10 + 0.5 * 100, 3 * 20 + 0.5 * 100])
    assert out.lower == pytest.approx([3 * 8 + 0.5 * 90, 3 * 15 + 0.5 * 80])
    assert out.upper == pytest.approx([3 * 12 + 0.5 * 110, 3 * 25 + 0.5 * 120])
    assert out.total == pytest.approx(190.0)
    assert out.by_model == pytest.approx({"big": 90.0, "small": 100.0})


def test_traffic_scaling_scales_cost_and_interval() -> None:
    base = project_cost(USAGE, PRICES)
    out = project_cost(USAGE, PRICES, Scenario(traffic_scale=1.5))
    assert out.total == pytest.approx(1.5 * base.total)
    assert out.total_lower == pytest.approx(1.5 * base.total_lower)
    assert out.total_upper == pytest.approx(1.5 * base.total_upper)


def test_shifting_half_of_a_model_to_a_cheaper_one() -> None:
    scenario = Scenario(shifts=(Shift("big", "tiny", 0.5),))
    out = project_cost(USAGE, PRICES, scenario)
    # big keeps 15 of its 30 (cost 45); tiny serves 15 at 0.1 (1.5); small unchanged (100).
    assert out.by_model == pytest.approx({"big": 45.0, "tiny": 1.5, "small": 100.0})
    assert out.total == pytest.approx(146.5)
    # Lower bound: big 0.5*(8+15)*3 = 34.5, tiny 0.5*23*0.1 = 1.15, small 85.
    assert out.total_lower == pytest.approx(34.5 + 1.15 + 85.0)


def test_price_change_and_comparison_with_the_baseline() -> None:
    result = what_if(USAGE, PRICES, Scenario(prices={"small": 1.0}))
    assert result.baseline.total == pytest.approx(190.0)
    assert result.scenario.total == pytest.approx(290.0)
    assert result.change == pytest.approx(100.0)


def test_everything_at_once() -> None:
    scenario = Scenario(
        traffic_scale=2.0,
        shifts=(Shift("small", "big", 0.25), Shift("small", "tiny", 0.75)),
        prices={"tiny": 0.2},
    )
    out = project_cost(USAGE, PRICES, scenario)
    # small's 200 all moves: 50 to big, 150 to tiny; then everything doubles.
    assert out.by_model == pytest.approx({"big": 2 * 3.0 * 80, "tiny": 2 * 0.2 * 150})
    assert "small" not in out.by_model


@pytest.mark.parametrize(
    ("scenario", "prices", "message"),
    [
        (Scenario(traffic_scale=-1.0), PRICES, "scale"),
        (Scenario(shifts=(Shift("nope", "big", 0.1),)), PRICES, "no usage forecast"),
        (Scenario(shifts=(Shift("big", "small", 1.5),)), PRICES, "between 0 and 1"),
        (
            Scenario(shifts=(Shift("big", "small", 0.6), Shift("big", "tiny", 0.6))),
            PRICES,
            "more than all",
        ),
        (Scenario(), {"big": 1.0}, "no price for model 'small'"),
        (Scenario(prices={"big": -1.0}), PRICES, "must not be negative"),
    ],
)
def test_impossible_scenarios_are_validation_errors(
    scenario: Scenario, prices: dict[str, float], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        project_cost(USAGE, prices, scenario)


def test_usage_forecasts_must_line_up() -> None:
    short = {"a": _usage([1.0], [1.0], [1.0]), "b": _usage([1.0, 2.0], [1.0, 2.0], [1.0, 2.0])}
    with pytest.raises(ValidationError, match="one horizon"):
        project_cost(short, {"a": 1.0, "b": 1.0})
