"""docs/datenschutz.md stays true: it describes every table of the database (and no table that
does not exist) and every retention setting of config.py with its default."""

from __future__ import annotations

import re
from pathlib import Path

from app.extensions import db
from app.privacy import retention

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "datenschutz.md"
CONFIG = ROOT / "config.py"

#: A row of a Markdown table whose first cell is a name in backticks: (name, second cell).
ROW = re.compile(r"^\|\s*`([A-Za-z0-9_]+)`\s*\|\s*([^|]*?)\s*\|", re.MULTILINE)
#: A retention setting in config.py: ``NAME = _env_int("NAME", 24)``.
SETTING = re.compile(r'^\s+(\w*RETENTION\w*) = _env_(?:int|bool)\("\1", ([^)]+)\)', re.MULTILINE)


def _section(number: int) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"^## {number}\. .*?(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"docs/datenschutz.md has no section '## {number}. …'"
    return match.group(0)


def test_every_table_is_documented_and_every_documented_table_exists(app):
    documented = {name for name, _ in ROW.findall(_section(2))}
    actual = set(db.metadata.tables)
    missing = sorted(actual - documented)
    gone = sorted(documented - actual)
    assert not missing, (
        "docs/datenschutz.md, section 2, does not describe these tables: "
        f"{', '.join(missing)} "
        "(add a row: | `table` | Inhalt | Zweck | Wer sieht es | Aufbewahrung |)"
    )
    assert not gone, f"docs/datenschutz.md, section 2, describes tables that do not exist: {gone}"


def test_every_retention_setting_is_documented_with_its_default():
    in_config = {name: _value(default) for name, default in SETTING.findall(CONFIG.read_text())}
    documented = {name: _value(default) for name, default in ROW.findall(_section(4))}
    assert in_config, "config.py has no retention settings (…RETENTION… = _env_int(…))"
    missing = sorted(in_config.keys() - documented.keys())
    gone = sorted(documented.keys() - in_config.keys())
    assert not missing, f"docs/datenschutz.md, section 4, does not list the settings {missing}"
    assert not gone, f"docs/datenschutz.md, section 4, lists settings config.py lacks: {gone}"
    wrong = {
        name: (documented[name], value)
        for name, value in in_config.items()
        if documented[name] != value
    }
    assert not wrong, f"defaults differ (documented, config.py): {wrong}"
    # The nightly run's settings are all there with these defaults (the API keeps its own).
    assert retention.SETTINGS.items() <= in_config.items(), "retention.SETTINGS differs"


def test_the_nightly_run_and_its_settings_agree_with_the_config(app):
    for name, default in retention.SETTINGS.items():
        assert name in app.config, f"config.py lacks {name}"
        assert isinstance(app.config[name], type(default))


def _value(text: str) -> object:
    text = text.strip().strip("`")
    if text in ("True", "true"):
        return True
    if text in ("False", "false"):
        return False
    return int(text)
