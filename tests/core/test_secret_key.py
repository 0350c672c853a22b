"""Without a configured SECRET_KEY (outside production) the app signs cookies with a random key
of its own, kept in instance/, never with the public default."""

from __future__ import annotations

import logging
import multiprocessing
import stat
from pathlib import Path

import pytest

from app import create_app
from app.core.security import instance_secret_key
from config import DEFAULT_SECRET_KEY, TestConfig


def test_a_random_key_is_made_once_readable_only_by_its_owner(tmp_path):
    key = instance_secret_key(tmp_path)
    path = tmp_path / "secret_key"
    assert len(key) >= 64 and key != DEFAULT_SECRET_KEY
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert instance_secret_key(tmp_path) == key
    assert instance_secret_key(tmp_path / "other") != key  # another machine, another key
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["secret_key"]  # no leftovers


def _key_in_new_process(folder: str, start, keys) -> None:
    start.wait()
    keys.put(instance_secret_key(Path(folder)))


def test_processes_starting_at_once_agree_on_one_key(tmp_path):
    context = multiprocessing.get_context("spawn")
    start, keys = context.Event(), context.Queue()
    workers = [
        context.Process(target=_key_in_new_process, args=(str(tmp_path), start, keys))
        for _ in range(6)
    ]
    for worker in workers:
        worker.start()
    start.set()
    found = {keys.get(timeout=60) for _ in workers}
    for worker in workers:
        worker.join(timeout=60)
    assert found == {(tmp_path / "secret_key").read_text().strip()}


@pytest.mark.parametrize("configured", [None, "", DEFAULT_SECRET_KEY])
def test_the_app_uses_the_instance_key_when_none_is_configured(configured, caplog):
    class Development(TestConfig):
        APP_ENV = "development"
        SECRET_KEY = configured

    with caplog.at_level(logging.WARNING):
        app = create_app(Development)
    key_file = Path(app.instance_path) / "secret_key"
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert app.config["SECRET_KEY"] != DEFAULT_SECRET_KEY


def test_making_the_instance_key_is_logged(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        instance_secret_key(tmp_path)
    assert "SECRET_KEY" in caplog.text and "secret_key" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        instance_secret_key(tmp_path)
    assert caplog.text == ""


def test_production_refuses_to_start_without_a_key():
    class Production(TestConfig):
        APP_ENV = "production"
        SECRET_KEY = None

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Production)
