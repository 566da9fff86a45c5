"""Router options are checked before anything runs: names, types and ranges, one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.errors import InputError
from routelens.routers.local import LocalRouterSettings
from routelens.routers.options import ApiRouterOptions, validated_options
from routelens.routers.registry import make_router

runner = CliRunner()


@pytest.mark.parametrize(
    ("router", "options", "message"),
    [
        ("local", {"ambiguity_ratio": "abc"}, "ambiguity_ratio: Input should be a valid number"),
        ("local", {"ambiguity_ratio": 1.5}, "ambiguity_ratio: Input should be less than or equal"),
        ("local", {"max_options": 1}, "max_options: Input should be greater than or equal to 2"),
        ("local", {"colour": 1}, "unknown option(s) for the local router: colour"),
        ("anthropic", {"max_tokens": "512"}, "max_tokens: Input should be a valid integer"),
        ("anthropic", {"timeout_s": 0}, "timeout_s: Input should be greater than 0"),
        ("anthropic", {"prompt_cache": 1}, "prompt_cache: Input should be a valid boolean"),
        ("openai", {"prompt_cache": False}, "unknown option(s) for the openai router"),
        ("openai", {"temperature": 3}, "temperature: Input should be less than or equal to 2"),
    ],
)
def test_bad_options_are_refused_before_the_router_exists(
    router: str, options: dict[str, object], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    with pytest.raises(InputError) as raised:
        make_router(router, "m", options)
    assert message in str(raised.value)
    assert str(raised.value).startswith("--router-option: ")


def test_good_options_keep_their_values() -> None:
    assert validated_options("local", LocalRouterSettings, {"ambiguity_ratio": 0.5}) == (
        LocalRouterSettings(ambiguity_ratio=0.5)
    )
    checked = validated_options("anthropic", ApiRouterOptions, {"temperature": 1, "seed": 3})
    assert (checked.temperature, checked.seed, checked.max_retries) == (1.0, 3, 4)


def test_the_cli_names_the_right_flag_and_creates_no_store(
    skills_dir: Path, cases_file: Path, tmp_path: Path
) -> None:
    store = tmp_path / "s.sqlite"
    base = ["run", "--skills", str(skills_dir), "--cases", str(cases_file), "--store", str(store)]
    bad_type = runner.invoke(app, [*base, "--router-option", "ambiguity_ratio=abc"])
    assert bad_type.exit_code == 2
    assert bad_type.stderr.startswith("routelens: error: --router-option: ambiguity_ratio: ")
    no_value = runner.invoke(app, [*base, "--router-option", "foo"])
    assert no_value.exit_code == 2
    assert "routelens: error: --router-option: 'foo' is not key=value" in no_value.stderr
    assert not store.exists()  # refused before any store was created
    custom = runner.invoke(
        app, [*base, "--router", "tests.support_routers:slow_router", "--router-option", "x=1"]
    )
    assert custom.exit_code == 0, custom.output  # a custom factory takes **options
    refused = runner.invoke(
        app, [*base, "--router", "tests.support_routers:strict_router", "--router-option", "x=1"]
    )
    assert refused.exit_code == 2
    assert "router 'tests.support_routers:strict_router' refused its options" in refused.stderr


def test_max_retries_is_ignored_with_a_note_for_routers_that_do_not_retry(
    skills_dir: Path, cases_file: Path, tmp_path: Path
) -> None:
    result = runner.invoke(
        app,
        [
            "run",
            "--skills",
            str(skills_dir),
            "--cases",
            str(cases_file),
            "--store",
            str(tmp_path / "s.sqlite"),
            "--max-retries",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "note: --max-retries applies to the anthropic, openai, claude-code routers" in (
        result.stderr
    )


def test_a_refused_secret_or_url_credential_is_never_echoed() -> None:
    with pytest.raises(InputError) as raised:
        validated_options("anthropic", ApiRouterOptions, {"api_key": 987654321})
    assert "987654321" not in str(raised.value)
    assert "(given ***)" in str(raised.value)
    with pytest.raises(InputError) as raised:
        validated_options("anthropic", ApiRouterOptions, {"limiter_url": 5, "api_key": "s3cr3t"})
    assert "s3cr3t" not in str(raised.value)
