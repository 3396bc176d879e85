"""Ctrl+C or SIGTERM while the ``tongcheng`` command is still loading its modules: a quiet exit, no traceback.

Loading the command (numpy, pyproj, SpatiaLite's Python side, the command
groups) takes a good part of a second. A ``KeyboardInterrupt`` raised in the
middle of an import would end in a traceback, and ``main()``'s own handling
is not in place yet. While :func:`quiet_while_loading` is in force, SIGINT
ends the process at once with exit code 130 and SIGTERM with 143, each with
the one line the command prints for them later; nothing has been written
at that point, so there is nothing to clean up. :meth:`Loading.end` puts the
previous handlers back (``main()`` then handles the signals itself).

Only the standard library's ``os`` and ``signal`` are imported here, so the
guard is in place before anything heavy loads. A signal that arrives even
earlier, while the Python interpreter itself starts (before any of our code
runs), is the interpreter's: it ends the process by the signal, or with the
interpreter's own message.
"""

from __future__ import annotations

import os
import signal
from types import FrameType

__all__ = ["Loading", "quiet_while_loading", "LOADING_EXITS"]

#: Per signal: the line printed on standard error and the exit code (those of ``tongcheng`` itself).
LOADING_EXITS: dict[int, tuple[str, int]] = {
    signal.SIGINT: ("tongcheng: interrupted; nothing was written", 130),
    signal.SIGTERM: ("tongcheng: stopped; nothing was written", 143),
}


def _leave(signum: int, frame: FrameType | None) -> None:
    line, code = LOADING_EXITS[signum]
    try:
        os.write(2, (line + "\n").encode())
    except OSError:
        pass
    os._exit(code)


class Loading:
    """The quiet-exit handlers while the command loads; :meth:`end` restores the ones they replaced."""

    def __init__(self) -> None:
        self._replaced: dict[int, object] = {}

    def start(self) -> Loading:
        for signum in LOADING_EXITS:
            try:
                current = signal.getsignal(signum)
                # An ignored signal stays ignored (nohup, a background job); a handler of the embedding program
                # stays too: only Python's defaults are replaced.
                if current not in (signal.default_int_handler, signal.SIG_DFL):
                    continue
                signal.signal(signum, _leave)
            except ValueError:  # not the main thread: signals are not ours to handle
                return self
            self._replaced[signum] = current
        return self

    def end(self) -> None:
        """Put back the handlers replaced by :meth:`start` (those still ours)."""
        for signum, handler in self._replaced.items():
            if signal.getsignal(signum) is _leave:
                signal.signal(signum, handler)  # type: ignore[arg-type]
        self._replaced.clear()


def quiet_while_loading() -> Loading:
    """Make SIGINT and SIGTERM quiet exits (130, 143) until the returned object's ``end()``."""
    return Loading().start()
