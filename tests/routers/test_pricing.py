"""Prices as data: lookup by model prefix, cache multipliers, config overrides."""

from __future__ import annotations

import pytest

from routelens.routers.base import TokenUsage
from routelens.routers.pricing import load_price_table


def test_cost_uses_input_output_and_cache_multipliers() -> None:
    table = load_price_table()
    tokens = TokenUsage(input=1_000_000, output=100_000, cache_read=2_000_000, cache_write=400_000)
    # sonnet 4.5: $3 in, $15 out; cache write 1.25x input, cache read 0.1x input
    expected = 3.0 + 1.5 + 2 * 0.3 + 0.4 * 3.75
    assert table.cost_usd("claude-sonnet-4-5", tokens) == pytest.approx(expected)


def test_dated_model_ids_use_the_longest_listed_prefix_and_unknown_models_have_no_price() -> None:
    table = load_price_table()
    assert table.price_for("claude-sonnet-4-5-20250929") == table.price_for("claude-sonnet-4-5")
    assert table.price_for("claude-opus-4-1-20250805") == table.price_for("claude-opus-4-1")
    assert table.price_for("mystery-model") is None
    assert table.cost_usd("mystery-model", TokenUsage(input=10)) is None


def test_config_overrides_and_adds_models() -> None:
    table = load_price_table(
        {"claude-sonnet-4-5": {"input": 2.0}, "house-model": {"input": 1.0, "output": 1.0}}
    )
    price = table.price_for("claude-sonnet-4-5")
    assert price is not None
    assert (price.input, price.output) == (2.0, 15.0)
    assert table.cost_usd("house-model", TokenUsage(input=1_000_000, output=1_000_000)) == 2.0
