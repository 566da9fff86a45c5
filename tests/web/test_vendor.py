"""The vendored chart files: the checksums the README states, licences beside them, shipped."""

from __future__ import annotations

import hashlib
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import routelens.web

VENDOR = Path(routelens.web.__file__).parent / "static" / "vendor"
ROOT = Path(__file__).resolve().parents[2]


def test_every_vendored_script_has_the_checksum_the_readme_states() -> None:
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    stated = dict(re.findall(r"\| `([\w.-]+\.js)` \|.*\| `([0-9a-f]{64})` \|", readme))
    scripts = sorted(path.name for path in VENDOR.glob("*.js"))
    assert sorted(stated) == scripts
    for name, checksum in stated.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == checksum, name


def test_licences_ship_with_the_scripts_and_the_templates_load_them() -> None:
    names = {path.name for path in VENDOR.iterdir()}
    assert {"echarts-LICENSE.txt", "echarts-NOTICE.txt", "echarts-wordcloud-LICENSE.txt"} <= names
    base = (VENDOR.parent.parent / "templates" / "base.html").read_text(encoding="utf-8")
    loaded = re.findall(r'src="/static/vendor/([^"]+)"', base)
    assert sorted(loaded) == sorted(path.name for path in VENDOR.glob("*.js"))


def test_package_data_includes_the_web_files() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["routelens"]
    package = VENDOR.parents[2]
    for path in (VENDOR.parent.parent).rglob("*"):
        if path.is_file() and path.suffix != ".py" and "__pycache__" not in path.parts:
            relative = path.relative_to(package).as_posix()
            assert any(fnmatch(relative, pattern) for pattern in patterns), relative
