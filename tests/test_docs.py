"""Docs that cannot drift: references written from the code, and every setting documented."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from routelens.cli import COMMANDS
from routelens.commands.reference import (
    EXPORTER_DOC,
    REFERENCE_FILE,
    render_reference,
    with_metric_table,
)
from routelens.config import RoutelensConfig

ROOT = Path(__file__).resolve().parents[1]
STALE = "is stale: run `make docs` (python -m routelens.commands.reference) and commit it"


def _docs_text() -> str:
    return (ROOT / "README.md").read_text() + "".join(
        path.read_text() for path in sorted((ROOT / "docs").glob("*.md"))
    )


def test_the_cli_reference_is_current() -> None:
    assert (ROOT / REFERENCE_FILE).read_text() == render_reference(COMMANDS), STALE


def test_the_exporter_metric_table_is_current() -> None:
    document = (ROOT / EXPORTER_DOC).read_text()
    assert document == with_metric_table(document), STALE


def _setting_names(model: type[BaseModel], prefix: str = "") -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        names.append(prefix + name)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += _setting_names(annotation, f"{prefix}{name}.")
    return names


def test_every_setting_is_documented() -> None:
    text = _docs_text()
    missing = [name for name in _setting_names(RoutelensConfig) if name.split(".")[-1] not in text]
    assert missing == []


def test_every_install_hint_names_an_extra_the_same_way() -> None:
    # routelens is installed from a clone: no hint may promise a package index
    from routelens import __file__ as package_file
    from routelens.extras import install_hint

    written = [path for path in Path(package_file).parent.rglob("*.py") if path.name != "extras.py"]
    spelled = [path for path in written if "pip install" in path.read_text()]
    assert spelled == []  # every hint comes from install_hint
    assert install_hint("web") == "pip install -e '.[web]' (in a clone of routelens)"
    docs = _docs_text()
    assert "pip install 'routelens[" not in docs
