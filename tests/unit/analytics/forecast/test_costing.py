"""What-if costing over fake usage: table prices, scaling, shifts, price changes, grouping."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics_hub.analytics.forecast.costing import (
    MAX_MODELS,
    ModelRef,
    PriceChange,
    TrafficShift,
    UsageRow,
    WhatIfCoster,
    WhatIfSpec,
)
from analytics_hub.analytics.forecast.metric import MetricForecaster
from analytics_hub.errors import ValidationError

D = dt.timedelta(days=1)
NOW = dt.datetime(2025, 3, 20, 10, 25, tzinfo=dt.UTC)
TODAY = dt.datetime(2025, 3, 20, tzinfo=dt.UTC)
TABLE = {("openai", "gpt-4o"): (2.5, 10.0), ("openai", "gpt-4o-mini"): (0.15, 0.6)}


class FakeUsage:
    """Every day of the last ``days``: the given calls, the same each day."""

    def __init__(self, per_day: list[tuple[str, str, float, float, float]], days: int = 30):
        self.per_day = per_day
        self.days = days

    @property
    def bucket(self) -> str:
        return "1d"

    def usage(self, start: dt.datetime, end: dt.datetime) -> list[UsageRow]:
        first = max(start, TODAY - self.days * D)
        rows, t = [], first
        while t < end:
            rows += [UsageRow(t, p, m, i, o, c) for p, m, i, o, c in self.per_day]
            t += D
        return rows


def lookup(provider: str, model: str, day: dt.date) -> tuple[float, float] | None:
    assert day == TODAY.date()
    return TABLE.get((provider, model))


def cost(spec: WhatIfSpec, usage: FakeUsage | None = None):  # type: ignore[no-untyped-def]
    coster = WhatIfCoster(MetricForecaster(clock=lambda: NOW))
    source = usage or FakeUsage([("openai", "gpt-4o", 2e6, 1e6, 15.0)])
    return coster.what_if(source, lookup, spec, NOW)


def test_the_baseline_is_forecast_tokens_at_todays_table_price() -> None:
    report = cost(WhatIfSpec(horizon=10))
    # 2 M input at 2.5 and 1 M output at 10 a day, for 10 days.
    assert report.result.baseline.total == pytest.approx(10 * (2 * 2.5 + 1 * 10.0))
    assert report.result.scenario.total == pytest.approx(report.result.baseline.total)
    assert report.start == TODAY
    (model,) = report.models
    assert (model.provider, model.model, model.price and model.price.source) == (
        "openai",
        "gpt-4o",
        "table",
    )


def test_twice_the_traffic_costs_twice_as_much() -> None:
    report = cost(WhatIfSpec(horizon=10, traffic_scale=2.0))
    assert report.result.scenario.total == pytest.approx(2 * report.result.baseline.total)
    assert report.result.scenario.total_upper == pytest.approx(
        2 * report.result.baseline.total_upper
    )


def test_shifting_to_a_cheaper_model_prices_the_same_tokens_at_its_price() -> None:
    shift = TrafficShift(ModelRef("GPT-4o"), ModelRef("gpt-4o-mini"), 0.5)
    report = cost(WhatIfSpec(horizon=10, shifts=(shift,)))
    half = 10 * (1 * 2.5 + 0.5 * 10.0)
    mini = 10 * (1 * 0.15 + 0.5 * 0.6)
    assert report.result.scenario.total == pytest.approx(half + mini)
    by_name = {m.model: m for m in report.models}
    assert by_name["gpt-4o-mini"].baseline == 0.0
    assert by_name["gpt-4o-mini"].scenario == pytest.approx(mini)


def test_a_price_change_applies_to_the_scenario_only() -> None:
    change = PriceChange(ModelRef("gpt-4o", "openai"), input=1.0, output=4.0)
    report = cost(WhatIfSpec(horizon=10, prices=(change,)))
    assert report.result.scenario.total == pytest.approx(10 * (2 * 1.0 + 1 * 4.0))
    (model,) = report.models
    assert model.scenario_price is not None
    assert model.scenario_price.source == "request"


def test_a_model_the_table_does_not_know_is_priced_at_its_observed_rate() -> None:
    usage = FakeUsage([("vllm", "in-house", 3e6, 1e6, 8.0), ("vllm", "free", 1e6, 0.0, 0.0)])
    report = cost(WhatIfSpec(horizon=5), usage)
    (model,) = report.models
    assert model.price is not None
    assert (model.price.input, model.price.source) == (pytest.approx(2.0), "observed")
    assert report.result.baseline.total == pytest.approx(5 * 8.0)
    assert report.unpriced == [("vllm", "free")]


def test_beyond_the_largest_models_the_rest_are_costed_together() -> None:
    calls = [("openai", "gpt-4o", 1e6, 1e6, 12.5)]
    calls += [("vllm", f"small-{i}", 1e5, 0.0, 0.1 * (i + 1)) for i in range(MAX_MODELS)]
    report = cost(WhatIfSpec(horizon=5, traffic_scale=3.0), FakeUsage(calls))
    assert len(report.other_models) == 1
    assert report.other_models[0] == ("vllm", "small-0")  # the cheapest
    other = next(m for m in report.models if m.model == "other")
    assert other.baseline == pytest.approx(5 * 0.1)
    assert other.scenario == pytest.approx(3 * 5 * 0.1)
    shift = TrafficShift(ModelRef("small-0"), ModelRef("gpt-4o-mini", "openai"), 1.0)
    with pytest.raises(ValidationError, match="costed with the smaller models as 'other'"):
        cost(WhatIfSpec(horizon=5, shifts=(shift,)), FakeUsage(calls))


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        (
            WhatIfSpec(horizon=5, shifts=(TrafficShift(ModelRef("o1"), ModelRef("gpt-4o"), 1),)),
            r"shifts\[0\]\.from: no priced calls of o1 in the history; costed: openai/gpt-4o",
        ),
        (
            WhatIfSpec(horizon=5, shifts=(TrafficShift(ModelRef("gpt-4o"), ModelRef("x9"), 1),)),
            r"shifts\[0\]\.to: no price for openai/x9; give it in prices",
        ),
        (
            WhatIfSpec(horizon=5, prices=(PriceChange(ModelRef("o1"), 1, 1),)),
            r"prices\[0\]: no priced calls of o1",
        ),
        (
            WhatIfSpec(horizon=5, model="nope"),
            "unknown forecaster 'nope'",
        ),
    ],
)
def test_references_that_cannot_be_costed_say_why(spec: WhatIfSpec, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        cost(spec)


def test_a_target_priced_in_the_request_needs_no_table_price() -> None:
    shift = TrafficShift(ModelRef("gpt-4o"), ModelRef("x9"), 1.0)
    change = PriceChange(ModelRef("x9"), input=0.5, output=1.0)
    report = cost(WhatIfSpec(horizon=10, shifts=(shift,), prices=(change,)))
    assert report.result.scenario.total == pytest.approx(10 * (2 * 0.5 + 1 * 1.0))


def test_no_priced_calls_at_all_is_an_error() -> None:
    with pytest.raises(ValidationError, match="no priced model calls"):
        cost(WhatIfSpec(horizon=5), FakeUsage([("vllm", "free", 1e6, 0.0, 0.0)]))
