"""Token prices kept as data (`pricing.toml`), overridable from config; cost of one attempt."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from routelens.routers.base import TokenUsage

PRICING_RESOURCE = "pricing.toml"
PER_MILLION = 1_000_000


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens, with cache multipliers relative to the input price."""

    input: float
    output: float
    cache_write_multiplier: float = 1.25
    cache_read_multiplier: float = 0.1

    def cost_usd(self, tokens: TokenUsage) -> float:
        """Cost of one call; `tokens.input` excludes cached tokens, as the APIs report it."""
        input_equivalent = (
            tokens.input
            + tokens.cache_write * self.cache_write_multiplier
            + tokens.cache_read * self.cache_read_multiplier
        )
        return (input_equivalent * self.input + tokens.output * self.output) / PER_MILLION


@dataclass(frozen=True)
class PriceTable:
    """Prices by model id; a dated id uses the longest listed prefix."""

    prices: Mapping[str, ModelPrice]

    def price_for(self, model: str | None) -> ModelPrice | None:
        """The price of `model`, or None when it is not listed."""
        if model is None:
            return None
        if model in self.prices:
            return self.prices[model]
        matches = [name for name in self.prices if model.startswith(name + "-")]
        return self.prices[max(matches, key=len)] if matches else None

    def cost_usd(self, model: str | None, tokens: TokenUsage) -> float | None:
        """Cost of one call, or None when the model has no price."""
        price = self.price_for(model)
        return None if price is None else price.cost_usd(tokens)


def _price(entry: Mapping[str, Any], defaults: Mapping[str, Any]) -> ModelPrice:
    merged = {**defaults, **entry}
    return ModelPrice(
        input=float(merged["input"]),
        output=float(merged["output"]),
        cache_write_multiplier=float(merged.get("cache_write_multiplier", 1.25)),
        cache_read_multiplier=float(merged.get("cache_read_multiplier", 0.1)),
    )


def load_price_table(overrides: Mapping[str, Mapping[str, Any]] | None = None) -> PriceTable:
    """The packaged prices, with `overrides` (model → fields) from config on top."""
    text = resources.files("routelens.routers").joinpath(PRICING_RESOURCE).read_text("utf-8")
    document = tomllib.loads(text)
    defaults = document.get("defaults", {})
    prices = {name: _price(entry, defaults) for name, entry in document["models"].items()}
    for name, entry in (overrides or {}).items():
        base = prices.get(name)
        known = (
            {
                "input": base.input,
                "output": base.output,
                "cache_write_multiplier": base.cache_write_multiplier,
                "cache_read_multiplier": base.cache_read_multiplier,
            }
            if base
            else {}
        )
        prices[name] = _price({**known, **entry}, defaults)
    return PriceTable(prices)
