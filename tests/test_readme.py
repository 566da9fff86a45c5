"""What the README shows works when pasted: the configuration sample, the quick start's flags."""

from __future__ import annotations

import re
from pathlib import Path

from routelens.config import load_config

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_the_configuration_sample_loads_as_written(tmp_path: Path) -> None:
    (sample,) = _blocks("toml")
    path = tmp_path / "routelens.toml"
    path.write_text(sample, encoding="utf-8")
    config = load_config(path)
    assert config.max_cost_usd == 5
    assert config.labels == {"team": "assistants"}
    assert config.max_error_rate == 0.1
    assert config.options_for("anthropic")["max_tokens"] == 256
