"""Undoable edit commands: the only way the editor changes features.

Every user edit is one ``QUndoCommand`` on the window's ``QUndoStack``, as in
Orange's canvas. A command records what its undo needs in ``__init__``; here
that record comes from the edit session itself, whose edit methods return
the previous state, so ``__init__`` performs the edit once (validating it: a
``ValidationError`` is raised before anything is pushed and leaves the
session unchanged) and the first ``redo()``, called by ``QUndoStack.push``,
does nothing. Later redos and undos replay the edit through the session.

After each apply the command emits :attr:`EditTarget.layerEdited` so the map,
table and counts follow.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtGui import QUndoCommand

__all__ = [
    "EditTarget",
    "EditCommand",
    "AddFeatureCommand",
    "ChangeAttributesCommand",
    "ChangeManyAttributesCommand",
    "MoveFeatureCommand",
    "DeleteFeaturesCommand",
    "GroupCommand",
]


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("commands", text, disambiguation, n)


class EditTarget(QObject):
    """The edit session the commands act on, and the signal that reports their effect.

    Parameters
    ----------
    session : layers.workspace.editing.EditSession

    Signals
    -------
    layerEdited(str, list)
        A layer's features changed through a command (do, undo or redo):
        layer name and the fids concerned.
    """

    layerEdited = Signal(str, list)

    def __init__(self, session, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session

    def title(self, layer: str) -> str:
        """The layer's title in the application's language, for command texts."""
        return self.session.workspace.layer(layer).title(_language())


class EditCommand(QUndoCommand):
    """Base: skips the first redo (the edit was made in ``__init__``) and reports edits."""

    def __init__(self, target: EditTarget, layer: str, text: str, parent: QUndoCommand | None = None):
        super().__init__(text, parent)
        self.target = target
        self.session = target.session
        self.layer = layer
        self._first = True

    def redo(self) -> None:
        if self._first:
            self._first = False
        else:
            self.apply()
        self.target.layerEdited.emit(self.layer, self.fids())

    def undo(self) -> None:
        self.revert()
        self.target.layerEdited.emit(self.layer, self.fids())

    def apply(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def revert(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def fids(self) -> list[int]:
        return []


class AddFeatureCommand(EditCommand):
    """Add a feature; it gets a temporary (negative) fid until saved.

    Attributes
    ----------
    fid : int
        The temporary fid, kept across undo and redo.
    """

    def __init__(self, target: EditTarget, layer: str, attributes: dict, geometry, parent=None,
                 uuid: str | None = None):
        super().__init__(target, layer, _tr("Add feature to %s") % target.title(layer), parent)
        self.attributes = dict(attributes)
        self.geometry = geometry
        self.uuid = uuid
        self.fid = self.session.add_feature(layer, self.attributes, geometry, uuid=uuid)

    def apply(self) -> None:
        self.session.add_feature(self.layer, self.attributes, self.geometry, fid=self.fid, uuid=self.uuid)

    def revert(self) -> None:
        self.session.remove_added(self.layer, self.fid)

    def fids(self) -> list[int]:
        return [self.fid]


class ChangeAttributesCommand(EditCommand):
    """Change some attribute values of one feature."""

    def __init__(self, target: EditTarget, layer: str, fid: int, attributes: dict, parent=None):
        definition = target.session.workspace.layer(layer)
        names = ", ".join(definition.field(name).label(_language()) for name in attributes
                          if name in definition.known_names)
        super().__init__(target, layer, _tr("Change %s of %s %d") % (names, target.title(layer), fid), parent)
        self.fid = fid
        self.new = dict(attributes)
        self.old = self.session.change_attributes(layer, fid, self.new)

    def apply(self) -> None:
        self.session.change_attributes(self.layer, self.fid, self.new)

    def revert(self) -> None:
        self.session.change_attributes(self.layer, self.fid, self.old)

    def fids(self) -> list[int]:
        return [self.fid]


class ChangeManyAttributesCommand(EditCommand):
    """Give several features of one layer the same new values for some fields (all or none).

    The form for several selected features pushes this: one undo step for all of them.
    """

    def __init__(self, target: EditTarget, layer: str, fids, attributes: dict, parent=None):
        fids = [int(f) for f in fids]
        definition = target.session.workspace.layer(layer)
        names = ", ".join(definition.field(name).label(_language()) for name in attributes
                          if name in definition.known_names)
        text = _tr("Change %s of %n feature(s) of %s", "", len(fids)) % (names, target.title(layer))
        super().__init__(target, layer, text, parent)
        self.new = dict(attributes)
        self.old: dict[int, dict] = {}
        try:
            for fid in fids:
                self.old[fid] = self.session.change_attributes(layer, fid, self.new)
        except BaseException:
            self.revert()
            raise

    def apply(self) -> None:
        for fid in self.old:
            self.session.change_attributes(self.layer, fid, self.new)

    def revert(self) -> None:
        for fid, old in reversed(list(self.old.items())):
            self.session.change_attributes(self.layer, fid, old)

    def fids(self) -> list[int]:
        return list(self.old)


class MoveFeatureCommand(EditCommand):
    """Give a feature a new geometry (a moved point)."""

    def __init__(self, target: EditTarget, layer: str, fid: int, geometry, parent=None):
        super().__init__(target, layer, _tr("Move %s %d") % (target.title(layer), fid), parent)
        self.fid = fid
        self.new = geometry
        self.old = self.session.set_geometry(layer, fid, geometry)

    def apply(self) -> None:
        self.session.set_geometry(self.layer, self.fid, self.new)

    def revert(self) -> None:
        self.session.set_geometry(self.layer, self.fid, self.old)

    def fids(self) -> list[int]:
        return [self.fid]


class DeleteFeaturesCommand(EditCommand):
    """Delete features of one layer (all or none)."""

    def __init__(self, target: EditTarget, layer: str, fids, parent=None):
        fids = [int(f) for f in fids]
        super().__init__(target, layer, _tr("Delete %n feature(s) of %s", "", len(fids)) % target.title(layer), parent)
        self.features = []
        try:
            for fid in fids:
                self.features.append(self.session.delete_feature(layer, fid))
        except BaseException:
            self.revert()
            raise

    def apply(self) -> None:
        for feature in self.features:
            self.session.delete_feature(self.layer, feature.fid)

    def revert(self) -> None:
        for feature in reversed(self.features):
            self.session.undelete(self.layer, feature)

    def fids(self) -> list[int]:
        return [f.fid for f in self.features]


class GroupCommand(QUndoCommand):
    """Several edit commands as one undo step (e.g. applying a waypoint match: moves, additions, links).

    Build it, then make each part with :meth:`add` (the part makes its edit at
    once, as every command does); if a part is refused, :meth:`revert` takes
    back those made so far and the group is not pushed. The parts are kept
    here (not as Qt children) so their Python side lives as long as the group.
    """

    def __init__(self, text: str):
        super().__init__(text)
        self.parts: list[EditCommand] = []
        self._first = True

    def add(self, part: EditCommand) -> EditCommand:
        self.parts.append(part)
        return part

    def redo(self) -> None:
        for part in self.parts:
            part.redo()  # the first redo of each part only reports its edit

    def undo(self) -> None:
        for part in reversed(self.parts):
            part.undo()

    def revert(self) -> None:
        """Take back the parts made so far (the group was refused before being pushed)."""
        for part in reversed(self.parts):
            part.revert()
        self.parts.clear()


def _language() -> str:
    app = QCoreApplication.instance()
    return (app.property("tongcheng_language") if app else None) or "zh_CN"
