"""The main window's editing: identify, the feature form, the map's context menu and the undoable edits.

``WindowEditing`` is a mixin of ``MainWindow``: every edit builds a command
(``desktop.commands``) and pushes it on the window's ``QUndoStack``; the
Identify panel follows the edits. The strings keep the ``MainWindow``
translation context.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QPoint, QPointF
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu
from shapely.geometry import Point

from layers.errors import FeatureNotFoundError, TongchengError
from layers.workspace.located import with_location

from . import inspections_menu, paths
from .commands import (
    AddFeatureCommand,
    ChangeAttributesCommand,
    ChangeManyAttributesCommand,
    DeleteFeaturesCommand,
    GroupCommand,
    MoveFeatureCommand,
)

__all__ = ["WindowEditing"]


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("MainWindow", text, disambiguation, n)


class WindowEditing:
    """Identify, the feature form, the context menu and the edits of :class:`desktop.main_window.MainWindow`.

    A mixin: it uses the window's session, undo stack, canvas, panels and prompts.
    """

    # -- identify -------------------------------------------------------------------------

    def identify(self, layer: str, fid: int) -> None:
        """Show every attribute of a feature in the Identify panel."""
        self.identify_tree.show_feature(self.workspace.layer(layer), self.session.feature(layer, fid), fid,
                                        self.language, photos=self._identify_photos(layer, fid))
        self.identify_dock.show()
        self.identify_dock.raise_()
        self.identified = (layer, fid)

    # -- the form of existing features --------------------------------------------------

    def edit_selected(self) -> bool:
        """Open the form of the selected features (Enter on the map): of the current layer if it has a selection."""
        layer = self._selection_layer()
        if layer is None:
            self.statusBar().showMessage(_tr("Select the features to edit first"), 6000)
            return False
        return self.edit_attributes(layer, sorted(self.canvas.selection(layer)))

    def _selection_layer(self) -> str | None:
        current = self.current_layer()
        if current and self.canvas.selection(current):
            return current
        return next((name for name in self.sources if self.canvas.selection(name)), None)

    def edit_attributes(self, layer: str, fids) -> bool:
        """Open the feature form of one or several features of a layer; OK is one undoable command.

        With several features, fields whose values differ are shown as "mixed"
        and stay untouched unless the user changes them. A locked layer's
        form only shows. True when an edit was pushed.
        """
        from .forms.feature_form import FeatureForm

        features = self.session.features_by_fid(layer, [int(f) for f in fids])
        if not features:
            return False
        definition = self.workspace.layer(layer)
        names = definition.editable_names
        first = features[0].attributes
        mixed = [name for name in names if any(f.attributes.get(name) != first.get(name) for f in features[1:])]
        read_only = not self.is_editable(layer, tell=False)
        strip = self.photos.strip(layer, features[0].fid, read_only=read_only) if len(features) == 1 else None
        form = FeatureForm(definition, dict(first), attachments_folder=paths.attachments_folder(self.workspace.path),
                           language=self.language, read_only=read_only, mixed=mixed, count=len(features),
                           photos=strip, parent=self)
        page = inspections_menu.attach_page(self, form, layer, features, read_only)  # the Inspections tab
        try:
            if not self.prompts.edit_features(form) or read_only:
                return False
            changes = form.changes()
        finally:
            form.deleteLater()
        if page is not None and page.has_edits():  # one undo step: the facility's and its inspections' edits
            return inspections_menu.push_form(self, page, layer, features[0].fid, changes)
        if not changes:
            return False
        chosen = [f.fid for f in features]
        if len(chosen) == 1:
            return self.change_attributes(layer, chosen[0], changes)
        return self._push(lambda: ChangeManyAttributesCommand(self.edits, layer, chosen, changes)) is not None

    # -- the map's context menu -------------------------------------------------------------

    def show_map_context_menu(self, pos: QPoint) -> QMenu:
        """The map's right-click menu: edit attributes, zoom to, copy coordinates, delete.

        On a selected feature it acts on the selected features of its layer;
        on another feature on that feature; on empty map on the selection.
        """
        hit = self.identify_tool.feature_at(QPointF(pos))
        if hit is not None:
            layer: str | None = hit.layer
            selected = self.canvas.selection(hit.layer)
            fids = sorted(selected) if hit.fid in selected else [hit.fid]
            x, y = hit.x, hit.y
        else:
            layer = self._selection_layer()
            fids = sorted(self.canvas.selection(layer)) if layer else []
            x, y = self.canvas.to_map(QPointF(pos))
        if self.context_menu is not None:
            self.context_menu.deleteLater()
        menu = self.context_menu = QMenu(self)
        menu.setObjectName("map_context_menu")
        edit = menu.addAction(_tr("Edit attributes…"))
        edit.setObjectName("context_edit")
        zoom = menu.addAction(_tr("Zoom to"))
        zoom.setObjectName("context_zoom")
        copy = menu.addAction(_tr("Copy coordinates"))
        copy.setObjectName("context_copy")
        menu.addSeparator()
        delete = menu.addAction(_tr("Delete…"))
        delete.setObjectName("context_delete")
        for action in (edit, zoom, delete):
            action.setEnabled(bool(fids))
        if layer and fids:
            edit.triggered.connect(lambda: self.edit_attributes(layer, fids))
            zoom.triggered.connect(lambda: self.zoom_to_features({layer: fids}))
            delete.triggered.connect(lambda: self.delete_chosen({layer: fids}))
        copy.triggered.connect(lambda: self.copy_coordinates(x, y))
        menu.popup(self.canvas.mapToGlobal(pos))
        return menu

    def copy_coordinates(self, x: float, y: float) -> str:
        """Put "x, y" (workspace CRS) on the clipboard; returns the text."""
        text = f"{x:.3f}, {y:.3f}"
        QGuiApplication.clipboard().setText(text)
        self.statusBar().showMessage(_tr("Copied %s (%s)") % (text, self.workspace.crs), 4000)
        return text

    def _follow_identified(self, layer: str, fids) -> None:
        """Show the identified feature as it is now after an edit, undo or redo of it (nothing once it is gone)."""
        shown = self.identify_tree.identified
        if shown is None or shown[0] != layer or shown[1] not in {int(f) for f in fids}:
            return
        try:
            feature = self.session.feature(layer, shown[1])
        except FeatureNotFoundError:
            self.identify_tree.forget()
            self.identified = None
            return
        self.identify_tree.show_feature(self.workspace.layer(layer), feature, shown[1], self.language,
                                        photos=self._identify_photos(layer, shown[1]))

    def _identify_photos(self, layer: str, fid: int) -> list:
        """The identified feature's photos as (hash, thumbnail, tooltip) for the Identify panel."""
        items = self.photos.feature(layer, fid).items()
        return [(item.sha256, self.photos.thumbnail(item), item.file_name or item.sha256[:12]) for item in items]

    def view_identified_photo(self, sha256: str):
        """Show a photo of the identified feature full size (double-click in the Identify panel)."""
        if self.identify_tree.identified is None:
            return None
        layer, fid = self.identify_tree.identified
        return self.photos.view(layer, fid, sha256)

    # -- editing (every edit is a command) -------------------------------------------------

    def _push(self, make) -> object | None:
        """Build a command (which validates) and push it; show a refused edit as an error."""
        try:
            command = make()
        except TongchengError as e:
            self.prompts.error(_tr("Edit refused"), str(e))
            return None
        self.undo_stack.push(command)
        return command

    def add_feature(self, layer: str, attributes: dict, geometry, photos=()) -> int | None:
        """Add a feature, and the photos chosen in its form, as one undoable step; its temporary fid, or None."""
        if not self.is_editable(layer):
            return None
        if not photos:
            command = self._push(lambda: AddFeatureCommand(self.edits, layer, attributes, geometry))
            return None if command is None else command.fid
        group = self._push(lambda: self._add_with_photos(layer, attributes, geometry, list(photos)))
        return None if group is None else group.parts[0].fid

    def _add_with_photos(self, layer: str, attributes: dict, geometry, photos) -> GroupCommand:
        from .window_photos import AddPhotosCommand

        add = AddFeatureCommand(self.edits, layer, attributes, geometry)
        group = GroupCommand(add.text())
        group.add(add)
        try:
            group.add(AddPhotosCommand(self.edits, self.photos.edits, layer, add.fid, photos))
        except BaseException:
            group.revert()
            raise
        return group

    def add_point_at(self, x: float, y: float) -> int | None:
        """Add a point to the current layer at (x, y) after the user fills its form."""
        layer = self.current_layer()
        if not layer or self.sources[layer].geometry_type != "POINT":
            self.statusBar().showMessage(_tr("Choose a point layer in the layer panel first"), 6000)
            return None
        if not self.is_editable(layer):
            return None
        definition = self.workspace.layer(layer)
        # What the core takes from the position (zone, unit grid cell) is shown in the form, not typed.
        given = with_location(self.workspace, definition, {}, Point(x, y))
        draft = self.photos.draft(layer)  # the form's photos: stored with the feature on OK, nothing on Cancel
        values = self.prompts.new_feature(definition, attachments_folder=paths.attachments_folder(self.workspace.path),
                                          language=self.language, given=given,
                                          photos=self.photos.draft_strip(draft))
        if values is None:
            return None
        return self.add_feature(layer, values, Point(x, y), photos=draft.chosen)

    def move_feature(self, layer: str, fid: int, geometry) -> bool:
        """Give a feature a new geometry (undoable)."""
        if not self.is_editable(layer):
            return False
        return self._push(lambda: MoveFeatureCommand(self.edits, layer, fid, geometry)) is not None

    def _point_moved(self, layer: str, fid: int, _ox: float, _oy: float, x: float, y: float) -> None:
        self.move_feature(layer, fid, Point(x, y))

    def change_attributes(self, layer: str, fid: int, attributes: dict) -> bool:
        """Change attribute values of a feature (undoable)."""
        if not self.is_editable(layer):
            return False
        return self._push(lambda: ChangeAttributesCommand(self.edits, layer, fid, attributes)) is not None

    def delete_features(self, layer: str, fids) -> bool:
        """Delete features of one layer without asking (undoable)."""
        if not self.is_editable(layer):
            return False
        return self._push(lambda: DeleteFeaturesCommand(self.edits, layer, fids)) is not None

    def delete_selected(self) -> int:
        """Delete the selected features of the unlocked layers after confirmation; returns how many."""
        chosen = {name: sorted(self.canvas.selection(name)) for name in self.sources
                  if self.canvas.selection(name)}
        return self.delete_chosen(chosen)

    def delete_chosen(self, chosen: dict) -> int:
        """Delete these features ({layer: fids}) of the unlocked layers after confirmation; returns how many."""
        chosen = {name: sorted(fids) for name, fids in chosen.items() if fids}
        locked = [name for name in chosen if self.layer_panel.is_locked(name)]
        for name in locked:
            del chosen[name]
        if not chosen:
            message = (_tr("The selected features are in locked layers") if locked
                       else _tr("Select the features to delete first"))
            self.statusBar().showMessage(message, 6000)
            return 0
        counts = {self.sources[name].title: len(fids) for name, fids in chosen.items()}
        if not self.prompts.confirm_delete(counts):
            return 0
        total = sum(len(f) for f in chosen.values())
        self.undo_stack.beginMacro(_tr("Delete %n feature(s)", "", total))
        try:
            for name, fids in chosen.items():
                command = self._push(lambda name=name, fids=fids: DeleteFeaturesCommand(self.edits, name, fids))
                if command is None:
                    total -= len(fids)
        finally:
            self.undo_stack.endMacro()
        for name, fids in chosen.items():
            self.canvas.set_selection(name, set(self.canvas.selection(name)) - set(fids))
        return total

    def _layer_edited(self, layer: str, fids: list) -> None:
        if layer not in self.sources:  # a table without geometry (inspections): not drawn, no selection
            self._update_edit_state()
            return
        self._forget_missing(layer, fids)
        self._follow_identified(layer, fids)
        self.sources[layer].invalidate()
        self.canvas.refresh()
        self.refresh_counts([layer])
        self._update_edit_state()
        if self.table is not None:
            self.table.layer_edited(layer, fids)
