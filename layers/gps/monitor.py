"""Progress reporting and cancellation shared by the GPS readers."""

from layers.errors import Cancelled

__all__ = ["Monitor"]


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

    def __init__(self, path, total, progress=None, cancel=None):
        self.path = path
        self.total = total
        self._progress = progress
        if cancel is not None and not callable(cancel) and hasattr(cancel, "is_set"):
            cancel = cancel.is_set
        self._cancel = cancel

    def __call__(self, done):
        """Report ``done`` bytes read; raise Cancelled if the user asked."""
        if self._cancel is not None and self._cancel():
            raise Cancelled(f"{self.path}: import cancelled by the user")
        if self._progress is not None:
            self._progress(done, self.total)
