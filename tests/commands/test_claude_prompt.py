"""`routelens claude-prompt` and `validate`'s warning about names Claude Code bundles."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from routelens.cli import app
from routelens.store import open_store
from routelens.store.claude_prompts import StoredClaudePrompt, save_claude_prompt
from tests.conftest import write_skill


def _capture_into(store_url: str, version: str, bundled: tuple[str, ...]) -> None:
    with open_store(store_url) as store:
        save_claude_prompt(
            store,
            StoredClaudePrompt(
                template_hash=version.replace(".", "") * 8,
                claude_code_version=version,
                model="claude-opus-5-5",
                skills_hash="s" * 64,
                bundled_skills=bundled,
                template={"format": 1},
                captured_at=datetime(2026, 12, 1, tzinfo=UTC),
            ),
        )


def test_validate_warns_about_a_skill_named_like_a_bundled_one(tmp_path: Path) -> None:
    write_skill(tmp_path / "skills", "code-review", "code-review", "Our review rules.")
    write_skill(tmp_path / "skills", "deploy", "deploy", "Deploy the app.")
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    _capture_into(store_url, "2.1.332", ("dataviz", "code-review"))

    result = CliRunner().invoke(
        app, ["validate", "--skills", str(tmp_path / "skills"), "--store", store_url]
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: 2 skills")
    (warning,) = result.stderr.splitlines()
    assert warning.startswith("routelens: warning: ")
    assert "code-review/SKILL.md: name: skill 'code-review'" in warning
    assert "Claude Code 2.1.332's bundled skill" in warning


def test_validate_without_a_capture_neither_warns_nor_creates_a_store(tmp_path: Path) -> None:
    write_skill(tmp_path / "skills", "code-review", "code-review", "Our review rules.")
    missing = tmp_path / "none.sqlite"

    result = CliRunner().invoke(
        app, ["validate", "--skills", str(tmp_path / "skills"), "--store", f"sqlite:///{missing}"]
    )

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert not missing.exists()


def test_list_shows_the_captures_newest_first(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    _capture_into(store_url, "2.1.332", ("dataviz",))

    result = CliRunner().invoke(app, ["claude-prompt", "list", "--store", store_url, "--json"])

    assert result.exit_code == 0, result.output
    (template,) = json.loads(result.stdout)["templates"]
    assert template["claude_code_version"] == "2.1.332"
    assert template["bundled_skills"] == ["dataviz"]


def test_capture_with_a_missing_executable_is_an_input_error(tmp_path: Path) -> None:
    write_skill(tmp_path / "skills", "deploy", "deploy", "Deploy the app.")
    result = CliRunner().invoke(
        app,
        [
            "claude-prompt",
            "capture",
            "--skills",
            str(tmp_path / "skills"),
            "--executable",
            str(tmp_path / "no-claude"),
            "--store",
            f"sqlite:///{tmp_path / 's.sqlite'}",
        ],
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"routelens: error: --executable: executable: {tmp_path / 'no-claude'} not found on PATH\n"
    )
