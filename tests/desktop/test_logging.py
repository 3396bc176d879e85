"""The editor's log: a rotating file, unexpected errors logged with their traceback and shown,
Help > Open log folder."""

from __future__ import annotations

import logging
import sys
import threading

import pytest

from desktop import app, paths
from desktop.error_reporting import configure_logging, install_excepthook
from layers.log import LOG_FILE_NAME, ROOT_LOGGER

from .editor_fixtures import ScriptedPrompts, make_workspace, shown_window


@pytest.fixture
def log_dir(tmp_path, monkeypatch):
    """TONGCHENG_LOG_DIR in tmp_path, logging configured there; the logging set-up and hooks restored after."""
    folder = tmp_path / "logs"
    monkeypatch.setenv(paths.LOG_DIR_VARIABLE, str(folder))
    root = logging.getLogger(ROOT_LOGGER)
    saved = (list(root.handlers), root.level, root.propagate)
    hooks = (sys.excepthook, threading.excepthook)
    try:
        yield folder
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        root.propagate = saved[2]
        sys.excepthook, threading.excepthook = hooks


@pytest.fixture
def window(qtbot, tmp_path, log_dir):
    prompts = ScriptedPrompts()
    configure_logging()
    with shown_window(qtbot, make_workspace(tmp_path / "district.sqlite"), prompts) as w:
        yield w


def log_text(folder) -> str:
    for handler in logging.getLogger(ROOT_LOGGER).handlers:
        handler.flush()
    return (folder / LOG_FILE_NAME).read_text("utf-8")


def test_the_log_folder_follows_the_environment(log_dir):
    assert paths.log_folder() == log_dir
    assert paths.log_file() == log_dir / LOG_FILE_NAME
    assert configure_logging() == log_dir / LOG_FILE_NAME
    handlers = logging.getLogger(ROOT_LOGGER).handlers
    assert [type(h).__name__ for h in handlers] == ["RotatingFileHandler"]  # no console
    assert "configure_logging" in app.__all__


def test_an_unexpected_error_is_logged_and_shown_with_the_log_path(window, log_dir):
    install_excepthook(lambda: window)

    def broken():
        raise RuntimeError("boom in a slot")

    try:
        broken()
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    text = log_text(log_dir)
    assert "unexpected error" in text and "Traceback (most recent call last)" in text
    assert "RuntimeError: boom in a slot" in text and "in broken" in text
    prompts = window.prompts
    assert len(prompts.errors) == 1
    assert "boom in a slot" in prompts.errors[0] and str(log_dir / LOG_FILE_NAME) in prompts.errors[0]
    assert "RuntimeError: boom in a slot" in prompts.error_details[0]
    assert window.isVisible()  # the editor keeps running


def test_an_error_in_another_thread_is_logged_and_shown_in_the_gui_thread(qtbot, window, log_dir):
    install_excepthook(lambda: window)
    shown_in = []
    original = window.prompts.error
    window.prompts.error = lambda *args: (shown_in.append(threading.current_thread()), original(*args))

    def work():
        raise ValueError("boom in a thread")

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(window.prompts.errors), timeout=5000)
    assert shown_in == [threading.main_thread()]
    assert "boom in a thread" in window.prompts.errors[0] and str(log_dir / LOG_FILE_NAME) in window.prompts.errors[0]
    assert "ValueError: boom in a thread" in log_text(log_dir)


def test_help_menu_opens_the_log_folder(window, log_dir):
    action = window.actions["open_log_folder"]
    assert action in window.findChild(type(window.file_menu), "help_menu").actions()
    assert action.text() == "Open &log folder"
    action.trigger()
    assert window.prompts.opened_folders == [log_dir] and log_dir.is_dir()
    window.prompts.open_folder_answer = False
    action.trigger()
    assert str(log_dir) in window.prompts.errors[-1]


def test_open_save_and_discard_are_logged(window, log_dir):
    toilet = window.session.feature("toilets", 1)
    assert window.change_attributes("toilets", 1, {"name": toilet.attributes["name"] + "（改）"})
    assert window.save()
    assert window.change_attributes("toilets", 2, {"name": "另一个"})
    assert window.discard(ask=False)
    text = log_text(log_dir)
    assert f"opened workspace {window.workspace.path}" in text
    assert "saved edits to" in text and "toilets +0 ~1 -0" in text
    assert "discarded edits in" in text
