"""Logging for the core: one logger tree under ``tongcheng``, set up by the CLI or the editor.

The core only ever calls ``logging.getLogger(__name__)`` (module names start
with ``layers.``, which :func:`logger` maps under ``tongcheng``); the programs
decide where records go with :func:`configure`.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

__all__ = ["ROOT_LOGGER", "LOG_FORMAT", "logger", "configure", "log_folder", "LOG_FILE_NAME"]

ROOT_LOGGER = "tongcheng"
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
LOG_FILE_NAME = "tongcheng.log"
_ROTATE_BYTES = 2 * 1024 * 1024
_ROTATE_COUNT = 5


def logger(module_name: str) -> logging.Logger:
    """The logger of a core module (``layers.sync.apply`` -> ``tongcheng.sync.apply``)."""
    name = module_name.removeprefix("layers.").removeprefix("layers")
    return logging.getLogger(f"{ROOT_LOGGER}.{name}" if name else ROOT_LOGGER)


def log_folder() -> Path:
    """The folder of the editor's rotating log: the user's log folder for Tongcheng."""
    import platformdirs

    return Path(platformdirs.user_log_path("tongcheng"))


def configure(
    *,
    verbose: int = 0,
    log_file: str | Path | None = None,
    rotating: bool = False,
    console: bool = True,
) -> Path | None:
    """Send the ``tongcheng`` records to standard error and/or a file; returns the file's path.

    Parameters
    ----------
    verbose : int
        0 warnings on standard error, 1 (``-v``) information, 2 (``-vv``) debugging.
    log_file : path-like, optional
        Also write every record (debugging included) to this file.
    rotating : bool
        Rotate *log_file* at 2 MB, keeping five old files (the editor's log).
    console : bool
        Whether to write to standard error at all.
    """
    root = logging.getLogger(ROOT_LOGGER)
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.setLevel(logging.DEBUG)
    root.propagate = False
    if console:
        stream = logging.StreamHandler()
        stream.setLevel(logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG)
        stream.setFormatter(logging.Formatter("tongcheng: %(levelname)s: %(message)s"))
        root.addHandler(stream)
    path: Path | None = None
    if log_file is not None:
        path = Path(log_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler
        if rotating:
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=_ROTATE_BYTES, backupCount=_ROTATE_COUNT, encoding="utf-8"
            )
        else:
            handler = logging.FileHandler(path, encoding="utf-8")
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
    return path
