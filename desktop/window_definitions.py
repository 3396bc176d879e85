"""The window follows its workspace's layer definitions when the core changes them.

The core reads a workspace's definitions again after an update that brought
a changed definition or a layer the office added (``layers.sync.migrate``),
and after a restore point (``layers.workspace.restore``). The window's views
were built from the definitions of before: the map's layer sources (title,
style, labels), the layer panel, the attribute table's models, the Identify
panel and the render threads' read-only views. :func:`follow_definitions`
compares the definitions shown with the workspace's and builds the views of
the layers that changed afresh; a layer added is drawn with its style, a layer
gone leaves every view. Feature forms are made from the workspace's
definition each time they open.

The undo history: sync and restore work on the saved workspace, so pending
edits are saved or discarded first, but commands can stay on the stack (edits
undone, to redo). They hold values of fields under the old definitions, and
a redo could write a column the update removed: after a change of definitions
the history is cleared, and the window says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication

from layers.errors import TongchengError
from layers.log import logger

from .workspace_source import WorkspaceLayerSource

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["DefinitionsChange", "definitions_change", "follow_definitions", "change_lines", "change_note",
           "layer_order"]

_log = logger(__name__)


def _tr(text: str) -> str:
    return QCoreApplication.translate("WindowDefinitions", text)


@dataclass(frozen=True)
class DefinitionsChange:
    """How the workspace's layer definitions differ from those the window shows.

    Attributes
    ----------
    added, removed : tuple of str
        Layers the workspace has now and had not (an update), or had and has no longer (a restore point).
    changed : tuple of (str, int, int)
        Layers whose definition changed: name, version shown before, version now.
    history_cleared : bool
        The undo history had commands, and they were dropped.
    """

    added: tuple[str, ...] = ()
    changed: tuple[tuple[str, int, int], ...] = ()
    removed: tuple[str, ...] = ()
    history_cleared: bool = False

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    @property
    def names(self) -> set[str]:
        """Every layer the change concerns."""
        return {*self.added, *self.removed, *(name for name, _old, _new in self.changed)}


def definitions_change(before: Mapping, after: Mapping) -> DefinitionsChange:
    """The layers added, changed and removed from the definitions ``before`` to those ``after`` ({name: definition})."""
    return DefinitionsChange(
        added=tuple(name for name in after if name not in before),
        changed=tuple((name, before[name].version, after[name].version) for name in after
                      if name in before and before[name] != after[name]),
        removed=tuple(name for name in before if name not in after))


def layer_order(kept: Sequence[str], names: Sequence[str]) -> list[str]:
    """The drawing order of the layers ``names`` (given in their default order): those in ``kept`` in its order,
    and each other one before the layer that follows it in the default order (at the end if none does)."""
    order = [name for name in kept if name in names]
    for i, name in enumerate(names):
        if name in order:
            continue
        after = next((n for n in names[i + 1:] if n in order), None)
        order.insert(order.index(after) if after is not None else len(order), name)
    return order


def follow_definitions(window: MainWindow) -> DefinitionsChange:
    """Show the workspace's layer definitions in ``window`` if they changed; returns the change (false if none).

    The window's edit session must hold no pending edits (sync and restore
    settle them first). The undo history is cleared when anything changed.
    """
    workspace = window.workspace
    change = definitions_change(window.shown_definitions, workspace.definitions)
    if not change:
        return change
    _log.info("%s: definitions changed under the window: added %s, changed %s, removed %s", workspace.path,
              list(change.added), [name for name, _old, _new in change.changed], list(change.removed))
    history = window.undo_stack.count() > 0
    window.undo_stack.clear()
    window.session.follow_definitions()
    window.readers.follow_definitions(workspace.definitions)
    window.shown_definitions = dict(workspace.definitions)

    rebuilt = change.names
    sources = {}
    for name, definition in workspace.definitions.items():
        if not definition.has_geometry:
            continue
        source = window.sources.get(name)
        if source is None or name in rebuilt:
            source = WorkspaceLayerSource(window.session, name, window.readers, window.language)
        sources[name] = source
    window.sources = sources
    current = window.current_layer()
    order = layer_order([layer.name for layer in window.canvas.layers()], list(sources))
    window.canvas.set_layers([sources[name] for name in order])
    window.layer_panel.sync(rebuild=True)  # titles and legends of the layers that changed
    for name in change.removed:
        window.layer_panel.set_locked(name, False)
    if current in sources:
        window.layer_panel.set_current_layer(current)
    else:
        first = next((s.name for s in sources.values() if s.geometry_type == "POINT"), None)
        if first:
            window.layer_panel.set_current_layer(first)
    if window.table is not None:
        window.table.follow_layers(rebuilt)
    identified = getattr(window, "identified", None)
    if identified and identified[0] in rebuilt:
        window.identify_tree.forget()
        window.identified = None
        if identified[0] in workspace.definitions:
            try:
                window.identify(*identified)  # shown again with the fields it has now
            except TongchengError:  # e.g. the update deleted the feature
                window.identify_tree.forget()
                window.identified = None
    if window.tool() == "move":  # the move tool works on the current layer
        window.set_tool("move")
    window.refresh_counts()
    window._update_edit_state()
    return DefinitionsChange(change.added, change.changed, change.removed, history_cleared=history)


def change_lines(window: MainWindow, change: DefinitionsChange) -> list[str]:
    """What changed, one line per layer, in the window's language (for the message after an update)."""
    definitions = window.workspace.definitions
    lines = [_tr("%s: definition version %d → %d") % (definitions[name].title(window.language), old, new)
             for name, old, new in change.changed]
    lines += [_tr("%s: layer added") % definitions[name].title(window.language) for name in change.added]
    lines += [_tr("%s: layer removed") % name for name in change.removed]
    return lines


def change_note(change: DefinitionsChange) -> str:
    """One line for the status bar: the views follow the new definitions, and the undo history was cleared."""
    if change.history_cleared:
        return _tr("The map, the forms and the table now show the new layer definitions; the undo history was "
                   "cleared (it held edits made under the old ones).")
    return _tr("The map, the forms and the table now show the new layer definitions.")
