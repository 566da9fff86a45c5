"""Tests for routelens.config: routelens.toml, [tool.routelens] and --config."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from routelens.config import RoutelensConfig, load_config
from routelens.errors import InputError

PYPROJECT_HEAD = '[project]\nname = "demo"\nversion = "1.0"\n\n'


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def dedent_toml(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def config_error(folder: Path, explicit: Path | None = None) -> str:
    with pytest.raises(InputError) as caught:
        load_config(explicit, search_dir=folder)
    return str(caught.value)


def test_without_a_file_the_defaults_apply(tmp_path: Path) -> None:
    config = load_config(search_dir=tmp_path)
    assert config == RoutelensConfig()
    assert (config.slo, config.daily_budget_usd, config.alert_channel) == (0.85, 25.0, "slack")
    assert (config.router, config.repeat, config.concurrency) == ("local", 1, 4)
    assert (config.skills, config.cases, config.min_accuracy) == (None, None, None)


def test_routelens_toml_is_read_and_paths_are_relative_to_it(tmp_path: Path) -> None:
    text = dedent_toml(
        """
        skills = "skills"
        cases = "suites/cases.yaml"
        slo = 0.9
        repeat = 3
        timeout_s = 30
        alert_channel = "pagerduty"

        [labels]
        team = "routing"

        [router_options.claude-cli]
        model = "haiku"
        """
    )
    write(tmp_path, "routelens.toml", text)
    config = load_config(search_dir=tmp_path)
    assert config.skills == tmp_path / "skills"
    assert config.cases == tmp_path / "suites" / "cases.yaml"
    assert (config.slo, config.repeat, config.timeout_s) == (0.9, 3, 30.0)
    assert config.alert_channel == "pagerduty"
    assert config.labels == {"team": "routing"}
    assert config.options_for("claude-cli") == {"model": "haiku"}
    assert config.options_for("local") == {}


def test_options_for_returns_a_copy(tmp_path: Path) -> None:
    write(tmp_path, "routelens.toml", "[router_options.local]\ntop_k = 3\n")
    config = load_config(search_dir=tmp_path)
    config.options_for("local")["top_k"] = 99
    assert config.options_for("local") == {"top_k": 3}


def test_an_absolute_path_is_kept(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "skills"
    write(tmp_path, "routelens.toml", f'skills = "{elsewhere}"\n')
    assert load_config(search_dir=tmp_path).skills == elsewhere


def test_pyproject_tool_routelens_is_read_when_there_is_no_routelens_toml(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pyproject.toml",
        PYPROJECT_HEAD + '[tool.routelens]\nslo = 0.7\ncases = "c.yaml"\n',
    )
    config = load_config(search_dir=tmp_path)
    assert (config.slo, config.cases) == (0.7, tmp_path / "c.yaml")


def test_routelens_toml_wins_over_pyproject(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", PYPROJECT_HEAD + "[tool.routelens]\nslo = 0.7\n")
    write(tmp_path, "routelens.toml", "slo = 0.95\n")
    assert load_config(search_dir=tmp_path).slo == 0.95


def test_a_pyproject_without_the_table_gives_the_defaults(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", PYPROJECT_HEAD + "[tool.ruff]\nline-length = 100\n")
    assert load_config(search_dir=tmp_path) == RoutelensConfig()


def test_the_current_folder_is_searched_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "routelens.toml", 'skills = "s"\n')
    monkeypatch.chdir(tmp_path)
    assert load_config().skills == tmp_path / "s"


def test_an_explicit_config_wins_and_its_paths_are_relative_to_it(tmp_path: Path) -> None:
    write(tmp_path, "routelens.toml", "slo = 0.5\n")
    explicit = write(tmp_path, "ci/nightly.toml", 'slo = 0.99\nskills = "../skills"\n')
    config = load_config(explicit, search_dir=tmp_path)
    assert config.slo == 0.99
    assert config.skills == tmp_path / "ci" / ".." / "skills"


def test_an_explicit_pyproject_is_read_from_its_table(tmp_path: Path) -> None:
    explicit = write(tmp_path, "other/pyproject.toml", "[tool.routelens]\nrepeat = 5\n")
    assert load_config(explicit, search_dir=tmp_path).repeat == 5


def test_a_missing_explicit_config_is_an_input_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    assert config_error(tmp_path, missing) == f"{missing}: config: no such config file"


def test_an_explicit_config_that_is_a_folder_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    assert config_error(tmp_path, tmp_path / "conf") == f"{tmp_path / 'conf'}: config: not a file"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("slo = 0.9\nrepaet = 3\n", "2: repaet: unknown setting"),
        ("slo = 1.5\n", "1: slo: Input should be less than or equal to 1"),
        ("slo = -0.1\n", "1: slo: Input should be greater than or equal to 0"),
        ('slo = "high"\n', "1: slo: Input should be a valid number"),
        ("slo = true\n", "1: slo: Input should be a valid number"),
        ("repeat = true\n", "1: repeat: Input should be a valid integer"),
        ("repeat = 0\n", "1: repeat: Input should be greater than or equal to 1"),
        ("repeat = 2.5\n", "1: repeat: Input should be a valid integer"),
        ("concurrency = 1000\n", "1: concurrency: Input should be less than or equal to 256"),
        ("timeout_s = 0\n", "1: timeout_s: Input should be greater than 0"),
        ("daily_budget_usd = -1\n", "1: daily_budget_usd: Input should be greater than or equal"),
        ('alert_channel = "teams"\n', "1: alert_channel: Input should be 'slack', 'pagerduty'"),
        ("router = 3\n", "1: router: Input should be a valid string"),
        ("skills = 3\n", "1: skills: Input is not a valid path"),
        ("slo = 0.9\n\n[labels]\nteam = 3\n", "4: labels.team: Input should be a valid string"),
        ("labels = { team = 3 }\n", "1: labels.team: Input should be a valid string"),
        (
            "[router_options.local]\ntop_k = 3\n[router_options]\nbad = 1\n",
            "4: router_options.bad: Input should be a valid dictionary",
        ),
        ("slo = 0.9\nslo = 0.8\n", "2: invalid TOML: Cannot overwrite a value"),
        ("slo = \n", "1: invalid TOML: Invalid value"),
    ],
)
def test_bad_settings_name_the_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, "routelens.toml", text)
    assert config_error(tmp_path).startswith(f"{path}:{expected}")


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("slo = 0.9\nversion = 2\n", "7: version: unknown setting"),
        ("name = 3\n", "6: name: unknown setting"),
        ("router = 2\n", "6: router: Input should be a valid string"),
        ("[tool.routelens.labels]\nteam = 3\n", "7: labels.team: Input should be a valid string"),
    ],
)
def test_pyproject_errors_point_into_the_tool_routelens_table(
    tmp_path: Path, table: str, expected: str
) -> None:
    text = PYPROJECT_HEAD + "[tool.routelens]\n" + table
    path = write(tmp_path, "pyproject.toml", text)
    assert config_error(tmp_path).startswith(f"{path}:{expected}")


def test_a_tool_routelens_that_is_not_a_table_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, "pyproject.toml", PYPROJECT_HEAD + "[tool]\nroutelens = 3\n")
    assert config_error(tmp_path).startswith(f"{path}:6: config: Input should be a valid dict")


def test_a_config_that_is_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "routelens.toml").write_bytes(b'router = "\xff"\n')
    assert config_error(tmp_path) == f"{tmp_path / 'routelens.toml'}: not UTF-8 text (byte 10)"


def test_alert_and_alertmanager_tables_have_the_documented_defaults() -> None:
    alerts, routes = RoutelensConfig().alerts, RoutelensConfig().alertmanager
    assert (alerts.retry_rate, alerts.rate_limited_rate) == (0.1, 0.05)
    assert (alerts.cost_spike_factor, alerts.min_worker_utilization) == (2.0, 0.5)
    assert (alerts.accuracy_for, alerts.daily_cost_for) == ("10m", "5m")
    assert routes.slack_channel == "#routing-alerts"
    assert routes.pagerduty_routing_key_file is None
    assert (routes.group_wait, routes.group_interval, routes.repeat_interval) == ("30s", "5m", "4h")


def test_alert_and_alertmanager_tables_are_read(tmp_path: Path) -> None:
    text = dedent_toml(
        """
        alert_channel = "email"

        [alerts]
        retry_rate = 0.2
        cost_spike_factor = 3
        accuracy_for = "1h30m"

        [alertmanager]
        email_to = "qa@example.com"
        email_smarthost = "smtp.example.com:587"
        email_auth_password_file = "/run/secrets/smtp"
        """
    )
    write(tmp_path, "routelens.toml", text)
    config = load_config(search_dir=tmp_path)
    assert (config.alerts.retry_rate, config.alerts.cost_spike_factor) == (0.2, 3.0)
    assert config.alerts.accuracy_for == "1h30m"
    assert config.alerts.min_worker_utilization == 0.5
    assert config.alertmanager.email_smarthost == "smtp.example.com:587"
    assert config.alertmanager.email_auth_password_file == "/run/secrets/smtp"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[alerts]\nretry_rat = 0.2\n", "2: alerts.retry_rat: unknown setting"),
        ("[alerts]\nretry_rate = -1\n", "2: alerts.retry_rate: Input should be greater than or"),
        (
            "[alerts]\ncost_spike_factor = 0\n",
            "2: alerts.cost_spike_factor: Input should be greater",
        ),
        ("[alerts]\nmin_worker_utilization = 2\n", "2: alerts.min_worker_utilization: Input"),
        (
            '[alerts]\naccuracy_for = "10 minutes"\n',
            "2: alerts.accuracy_for: Value error, '10 minutes' is not a duration such as 30s",
        ),
        ('[alertmanager]\nrepeat_interval = "4"\n', "2: alertmanager.repeat_interval: Value error"),
        (
            '[alertmanager]\nslack_api_url = "https://hooks.slack.com/x"\n',
            "2: alertmanager.slack_api_url: unknown setting",
        ),
        ('[alertmanager]\nemail_smarthost = "smtp"\n', "2: alertmanager.email_smarthost: String"),
    ],
)
def test_bad_alert_settings_name_the_file_line_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, "routelens.toml", text)
    assert config_error(tmp_path).startswith(f"{path}:{expected}")
