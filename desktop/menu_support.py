"""What the editor's menu extensions share (GPS, sync): the plumbing around work on the saved workspace.

Work that writes the workspace through the core (an import, a sync) never
goes through the edit buffer, so it first has pending edits saved or
discarded (:func:`settle_unsaved`); long work runs behind a busy dialog
(:func:`run_busy`); a failure is shown with its details
(:func:`show_failure`); afterwards the window shows the new data
(:func:`refresh_after_change`). Layer names are shown as titles
(:func:`layer_title`).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from layers.errors import TongchengError

from .dialogs.busy import run_busy
from .dialogs.prompts import UnsavedAnswer
from .window_definitions import DefinitionsChange, follow_definitions

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["settle_unsaved", "run_busy", "show_failure", "refresh_after_change", "layer_title"]


def settle_unsaved(window: MainWindow, ask: Callable[[int], UnsavedAnswer]) -> bool:
    """Save or discard the window's pending edits before the saved workspace is written; False to stop.

    Nothing is asked when there is nothing unsaved. Otherwise ``ask(count)``
    (count: the edits on the undo stack, at least 1) answers: Save (False if
    saving failed), Discard, or Cancel (False).
    """
    if not window.is_modified() and not window.session.is_dirty:
        return True
    answer = ask(window.undo_stack.index() or 1)
    if answer is UnsavedAnswer.SAVE:
        return window.save()
    if answer is UnsavedAnswer.DISCARD:
        return window.discard(ask=False)
    return False


def show_failure(prompts, title: str, error: BaseException, message: str | None = None) -> None:
    """Show an error through ``prompts.error``: the message (``str(error)`` by default) and, unless the
    error is one the core expects (a ``TongchengError``), its traceback as details."""
    details = None if isinstance(error, TongchengError) else "".join(traceback.format_exception(error))
    prompts.error(title, str(error) if message is None else message, details)


def refresh_after_change(window: MainWindow, layers: Iterable[str] | None = None) -> DefinitionsChange:
    """Show what the core wrote: re-read the layers (all by default), redraw, recount, reload the table.

    Layer definitions the core changed meanwhile (an update, a restore point) are taken first
    (``desktop.window_definitions``); returns that change (false if none).
    """
    change = follow_definitions(window)
    names = list(window.sources) if layers is None else [name for name in layers if name in window.sources]
    for name in names:
        window.sources[name].invalidate()
    window.canvas.refresh()
    window.refresh_counts()
    if getattr(window, "table", None) is not None:
        window.table.reset()
    for extension in getattr(window, "extensions", ()):  # e.g. the Cases panel reads its cases again
        if hasattr(extension, "after_reset"):
            extension.after_reset()
    return change


def layer_title(window: MainWindow, name: str) -> str:
    """A layer's title in the window's language (its name if the workspace has no such layer)."""
    try:
        return window.workspace.layer(name).title(window.language)
    except TongchengError:
        return name
