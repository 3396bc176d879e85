"""Progress reporting and cancellation shared by the GPS readers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from layers.errors import Cancelled

__all__ = ["Monitor", "Progress", "CancelCheck", "cancel_callback"]

#: ``progress(done, total)``: a callback told how far a long operation is.
Progress = Callable[[int, int], object]


class _Event(Protocol):
    def is_set(self) -> bool: ...


#: ``cancel()`` returning True when the user asked to stop, or an event such as ``threading.Event``.
CancelCheck = Callable[[], bool] | _Event


def cancel_callback(cancel: CancelCheck | None) -> Callable[[], bool] | None:
    """``cancel`` as a function returning True when the user asked to stop (an event's ``is_set``)."""
    if cancel is not None and not callable(cancel) and hasattr(cancel, "is_set"):
        return cancel.is_set
    return cancel  # type: ignore[return-value]  # callable here


class Monitor:
    """Calls ``progress(done_bytes, total_bytes)`` and checks ``cancel()``.

    Parameters
    ----------
    path : str, named in the Cancelled message.
    total : int, file size in bytes.
    progress : callable(int, int) or None
    cancel : callable() -> bool, or an object with ``is_set()`` (such as a
        ``threading.Event``), or None.
    """

    def __init__(
        self, path: str, total: int, progress: Progress | None = None, cancel: CancelCheck | None = None
    ) -> None:
        self.path = path
        self.total = total
        self._progress = progress
        self._cancel = cancel_callback(cancel)

    def __call__(self, done: int) -> None:
        """Report ``done`` bytes read; raise Cancelled if the user asked."""
        if self._cancel is not None and self._cancel():
            raise Cancelled(f"{self.path}: import cancelled by the user")
        if self._progress is not None:
            self._progress(done, self.total)
