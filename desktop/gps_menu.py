"""Editor extension: File > Import GPS…, GPS > Match waypoints to facilities… and GPS > Use averaged position….

The import and the matching write to the workspace through the core (not
through the edit buffer), so both first ask to save or discard pending
edits. Questions go through the window's ``prompts``: this module asks it
``gps_dialog(dialog) -> bool`` (show a dialog, True if accepted) and
``gps_save_first(count) -> UnsavedAnswer`` when the prompts object has them,
else shows real dialogs itself (``GpsPrompts`` below), so tests script them.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPoint, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog
from shapely.geometry import Point

from layers.errors import TongchengError
from layers.gps.average import average_position, average_session
from layers.gps.trackpoints import stored_sessions
from layers.log import logger

from .dialogs.gps_average import ADD, MOVE, AveragedPositionDialog
from .dialogs.gps_import import GpsImportDialog, GpsImportOptions, ImportJob, ImportSummaryDialog
from .dialogs.gps_review import MatchOptionsDialog, MatchReviewDialog
from .dialogs.prompts import UnsavedAnswer, ask_save_discard_cancel
from .menu_support import layer_title, refresh_after_change, settle_unsaved, show_failure
from .restore_menu import before_one_way_step

__all__ = ["install", "GpsMenu", "GpsPrompts", "GPS_LAYERS"]

_log = logger(__name__)

GPS_LAYERS = ("gps_tracks", "gps_waypoints", "gps_track_points")


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("GpsMenu", text, disambiguation, n)


class GpsPrompts:
    """The default answers to this extension's questions: real dialogs (used when ``prompts`` lacks them)."""

    def __init__(self, parent):
        self.parent = parent

    def gps_dialog(self, dialog) -> bool:
        return bool(dialog.exec())

    def gps_average_file(self, folder: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(
            self.parent, _tr("Average a stationary GPS log"), folder,
            _tr("GPS logs (*.gpx *.nmea *.nma *.txt *.log);;All files (*)"))
        return path or None

    def gps_pick_session(self, labels: list[str]) -> int | None:
        """The index of the stationary session chosen from ``labels``, or None."""
        label, ok = QInputDialog.getItem(self.parent, _tr("Use averaged position of an imported session"),
                                         _tr("Stationary session (fixes kept in GPS track points):"), labels, 0,
                                         False)
        return labels.index(label) if ok and label in labels else None

    def gps_save_first(self, count: int) -> UnsavedAnswer:
        return ask_save_discard_cancel(
            self.parent, _tr("Save edits first?"),
            _tr("GPS data is written to the workspace directly. Save the %d unsaved edits "
                "first, or discard them?") % count)


class GpsMenu(QObject):
    """The GPS actions of one main window.

    Signals
    -------
    importFinished(object)
        After an import ended and the layers were refreshed: the ImportSummary,
        or None when it was cancelled or failed (nothing written).
    matchesApplied(object)
        After Apply in the review: the core's ApplySummary.
    """

    importFinished = Signal(object)
    matchesApplied = Signal(object)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.job: ImportJob | None = None
        self.last_summary = None
        self.review: MatchReviewDialog | None = None
        self.review_layer: str | None = None
        self._defaults = GpsPrompts(window)
        self.import_action = QAction(window)
        self.import_action.setObjectName("gps_import")
        self.import_action.triggered.connect(lambda _checked=False: self.import_gps())
        self.match_action = QAction(window)
        self.match_action.setObjectName("gps_match")
        self.match_action.triggered.connect(lambda _checked=False: self.match_waypoints())
        window.actions["gps_import"] = self.import_action
        window.actions["gps_match"] = self.match_action
        self.average_action = QAction(window)
        self.average_action.setObjectName("gps_average")
        self.average_action.triggered.connect(lambda _checked=False: self.use_averaged_position())
        window.actions["gps_average"] = self.average_action
        self.average_session_action = QAction(window)
        self.average_session_action.setObjectName("gps_average_session")
        self.average_session_action.triggered.connect(lambda _checked=False: self.use_averaged_session())
        window.actions["gps_average_session"] = self.average_session_action
        quit_action = window.actions.get("quit")
        window.file_menu.insertAction(quit_action, self.import_action)
        window.file_menu.insertSeparator(quit_action)
        self.menu = window.menuBar().addMenu("")
        self.menu.setObjectName("gps_menu")
        settings = getattr(window, "settings_menu", None)
        if settings is not None:
            window.menuBar().insertMenu(settings.menuAction(), self.menu)
        self.menu.addAction(self.import_action)
        self.menu.addAction(self.match_action)
        self.menu.addAction(self.average_action)
        self.menu.addAction(self.average_session_action)
        window.installEventFilter(self)
        self.retranslate()

    def retranslate(self) -> None:
        self.import_action.setText(_tr("Import &GPS…"))
        self.import_action.setToolTip(_tr("Import GPX, NMEA or CSV files into the GPS tracks and waypoints"))
        self.match_action.setText(_tr("&Match waypoints to facilities…"))
        self.match_action.setToolTip(_tr("Pair GPS waypoints with the nearest facility, review, apply"))
        self.average_action.setText(_tr("Use &averaged position…"))
        self.average_action.setToolTip(_tr("Average a log of fixes taken over one spot, then move the selected "
                                           "feature there or add one"))
        self.average_session_action.setText(_tr("Use averaged position of an imported &session…"))
        self.average_session_action.setToolTip(_tr("Average the fixes an import kept of a receiver held still, "
                                                   "then move the selected feature there or add one"))
        self.menu.setTitle(_tr("&GPS"))

    # -- prompts --------------------------------------------------------------------------

    def _ask(self, name: str, *args):
        hook = getattr(self.window.prompts, name, None) or getattr(self._defaults, name)
        return hook(*args)

    def _ready_to_write(self) -> bool:
        """Pending edits saved or discarded (asked); False if the user cancelled or saving failed."""
        return settle_unsaved(self.window, lambda count: self._ask("gps_save_first", count))

    # -- averaged position -----------------------------------------------------------------

    def _single_selected_point(self) -> tuple[str, int] | None:
        """(layer, fid) when exactly one point feature is selected on the map, else None."""
        chosen = [(name, fid) for name, source in self.window.sources.items()
                  if source.geometry_type == "POINT" for fid in self.window.selection(name)]
        others = sum(len(self.window.selection(name)) for name, source in self.window.sources.items()
                     if source.geometry_type != "POINT")
        return chosen[0] if len(chosen) == 1 and not others else None

    def _feature_text(self, layer: str, fid: int) -> str:
        window = self.window
        definition = window.workspace.layer(layer)
        label = None
        if definition.label_field:
            found = window.session.features_by_fid(layer, [fid])
            label = found[0].attributes.get(definition.label_field) if found else None
        return f"{layer_title(window, layer)}: {label}" if label else f"{layer_title(window, layer)} #{fid}"

    def use_averaged_position(self, path: str | None = None) -> str | None:
        """Average a stationary GPS log, show the position and its accuracy, then move or add a feature there.

        Moving the one selected point feature and adding a feature are undoable
        edits like any other. Returns the choice made (``'move'``, ``'add'``) or None.
        """
        window = self.window
        title = _tr("Use averaged position")
        if path is None:
            path = self._ask("gps_average_file", str(window.workspace.path.parent))
            if not path:
                return None
        try:
            position = average_position(path, window.workspace.crs)
        except TongchengError as e:
            show_failure(window.prompts, title, e)
            return None
        return self._use_position(position)

    def use_averaged_session(self, session: str | None = None) -> str | None:
        """Like :meth:`use_averaged_position`, from the fixes an import kept of a stationary session.

        ``session`` is the session's waypoint uuid; None asks which (``gps_pick_session``).
        """
        window = self.window
        title = _tr("Use averaged position")
        if session is None:
            sessions = stored_sessions(window.workspace)
            if not sessions:
                window.prompts.information(title, _tr(
                    "No imported stationary session: import the GPS log of a receiver held still first "
                    "(its fixes are kept as GPS track points)"))
                return None
            index = self._ask("gps_pick_session", [s.label() for s in sessions])
            if index is None:
                return None
            session = sessions[index].uuid
        try:
            position = average_session(window.workspace, session)
        except TongchengError as e:
            show_failure(window.prompts, title, e)
            return None
        return self._use_position(position)

    def _use_position(self, position) -> str | None:
        """Show the averaged position, then move the one selected point feature there or add one (undoable)."""
        window = self.window
        _log.info("averaged %d fixes of %s: %.2f, %.2f (±%.1f m)", position.fixes, position.path, position.x,
                  position.y, position.rms_m)
        target = self._single_selected_point()
        move_text = self._feature_text(*target) if target else None
        layer = window.current_layer()
        add_layer = layer if layer and window.sources[layer].geometry_type == "POINT" else None
        dialog = AveragedPositionDialog(position, move_text,
                                        layer_title(window, add_layer) if add_layer else None, window)
        try:
            if not self._ask("gps_dialog", dialog):
                return None
            choice = dialog.choice
        finally:
            dialog.deleteLater()
        point = Point(position.x, position.y)
        if choice == MOVE and target is not None:
            if not window.move_feature(target[0], target[1], point):
                return None
        elif choice == ADD and add_layer is not None:
            if window.add_point_at(position.x, position.y) is None:
                return None
        else:
            return None
        window.canvas.set_center(position.x, position.y)
        window.statusBar().showMessage(
            _tr("Averaged position of %n fix(es) used (±%.1f m)", "", position.fixes) % position.rms_m, 8000)
        return choice

    # -- import ---------------------------------------------------------------------------

    def import_dialog(self) -> GpsImportDialog:
        """A new import dialog (time zone from the workspace setting)."""
        workspace = self.window.workspace
        return GpsImportDialog(workspace.setting("timezone"), str(workspace.path.parent), self.window)

    def import_gps(self, options: GpsImportOptions | None = None) -> ImportJob | None:
        """Ask for files and options (unless given), then start the import; the running job or None."""
        if self.job is not None:
            self.window.statusBar().showMessage(_tr("A GPS import is already running"), 4000)
            return None
        if not self._ready_to_write():
            return None
        if options is None:
            dialog = self.import_dialog()
            try:
                if not self._ask("gps_dialog", dialog):
                    return None
                options = dialog.options()
            finally:
                dialog.deleteLater()
        if not options.paths:
            return None
        if not before_one_way_step(self.window, _tr("GPS import"), _tr(
                "The tracks and waypoints are written to the workspace directly (there may be millions of "
                "points), not as edits on the undo stack.")):
            return None
        return self.start_import(options)

    def start_import(self, options: GpsImportOptions) -> ImportJob:
        """Import on a worker thread with a progress dialog; ``importFinished`` follows."""
        self.import_action.setEnabled(False)
        self.match_action.setEnabled(False)
        self.job = ImportJob(self.window.workspace, options, self.window)
        self.job.finished.connect(self._import_finished)
        self.job.start()
        return self.job

    def _import_finished(self, summary, message: str) -> None:
        job, self.job = self.job, None
        self.import_action.setEnabled(True)
        self.match_action.setEnabled(True)
        window = self.window
        self.last_summary = summary
        if summary is None:
            if message == "cancelled":
                window.statusBar().showMessage(_tr("GPS import cancelled: nothing was written"), 6000)
            else:
                window.prompts.error(_tr("GPS import failed"), _tr("Nothing was written.\n\n%s") % message,
                                     job.details if job else None)
            self.importFinished.emit(None)
            if job is not None:
                job.deleteLater()
            return
        refresh_after_change(window, GPS_LAYERS)
        if summary.imported:
            self.zoom_to_gps_layers()
        window.statusBar().showMessage(
            _tr("GPS import: %d imported, %d skipped, %d failed") % (
                len(summary.imported), len(summary.duplicates), len(summary.failed)), 8000)
        self.importFinished.emit(summary)
        if job is not None:
            job.deleteLater()
        dialog = ImportSummaryDialog(summary, window)
        try:
            self._ask("gps_dialog", dialog)
        finally:
            dialog.deleteLater()

    def zoom_to_gps_layers(self) -> None:
        """Show all of the GPS tracks and waypoints."""
        boxes = [self.window.sources[name].extent() for name in GPS_LAYERS if name in self.window.sources]
        boxes = [b for b in boxes if b is not None]
        if not boxes:
            return
        xmin = min(b[0] for b in boxes)
        ymin = min(b[1] for b in boxes)
        xmax = max(b[2] for b in boxes)
        ymax = max(b[3] for b in boxes)
        pad = max(xmax - xmin, ymax - ymin) * 0.05 or 50.0
        self.window.canvas.set_extent((float(xmin - pad), float(ymin - pad), float(xmax + pad), float(ymax + pad)))

    def eventFilter(self, watched, event) -> bool:
        # the window closes its workspace on close: the worker (own connection) is stopped first
        if watched is self.window and event.type() == QEvent.Type.Close and self.job is not None:
            self.job.cancel()
            self.job.wait()
        return False

    # -- matching -------------------------------------------------------------------------

    def match_waypoints(self, layer: str | None = None, max_distance: float | None = None):
        """Ask for the layer and distance (unless given), match, show the review; the review dialog or None."""
        from layers.errors import TongchengError
        from layers.gps.matching import match_waypoints

        window = self.window
        if not self._ready_to_write():
            return None
        if layer is None or max_distance is None:
            current = window.current_layer()
            dialog = MatchOptionsDialog(window.workspace, window.language, current, window)
            try:
                if layer is not None:
                    dialog.set_layer(layer)
                if max_distance is not None:
                    dialog.distance_spin.setValue(max_distance)
                if not self._ask("gps_dialog", dialog):
                    return None
                layer, max_distance = dialog.layer(), dialog.max_distance()
            finally:
                dialog.deleteLater()
        try:
            matches = match_waypoints(window.workspace, layer, max_distance)
        except TongchengError as exc:
            show_failure(window.prompts, _tr("Match waypoints"), exc)
            return None
        if not matches:
            window.prompts.information(_tr("Match waypoints"),
                                       _tr("There are no GPS waypoints: import a GPS file first"))
            return None
        self.review_layer = layer
        title = layer_title(window, layer)
        review = MatchReviewDialog(matches, title, max_distance, window)
        review.rowActivated.connect(lambda m: self.show_matches([m], layer))
        self.review = review
        order = [source.name for source in window.canvas.layers()]
        self._survey_on_top()
        self.place_review(review)
        self.show_matches(matches, layer)
        try:
            accepted = self._ask("gps_dialog", review)
            if accepted:
                self.apply(review.selected_matches(), layer, review.create_unmatched.isChecked())
        finally:
            self.review = None
            review.deleteLater()
            if sorted(order) == sorted(source.name for source in window.canvas.layers()):
                window.canvas.set_layer_order(order)
                window.layer_panel.sync()
        return review

    def _survey_on_top(self) -> None:
        """While matching, draw the survey layers (waypoints, tracks) above the facility layers."""
        window = self.window
        names = [source.name for source in window.canvas.layers()]
        survey = [n for n in names if window.workspace.layer(n).survey]
        survey.sort(key=lambda n: n != GPS_LAYERS[1])  # the waypoints topmost
        window.canvas.set_layer_order(survey + [n for n in names if n not in survey])
        window.layer_panel.sync()

    def place_review(self, review) -> None:
        """Put the review dialog at the window's right edge (over the side panels, as little of the map as
        it can), so the pairs it asks about stay in view beside it."""
        canvas = self.window.canvas
        window_right = self.window.mapToGlobal(self.window.rect().topRight()).x()
        top_right = QPoint(window_right, canvas.mapToGlobal(canvas.rect().topRight()).y())
        screen = canvas.screen().availableGeometry()
        width = min(review.width(), max(canvas.width() // 2, 360))
        height = min(review.height(), canvas.height())
        review.resize(width, height)
        frame = review.frameGeometry().size() if review.isVisible() else review.size()
        x = min(top_right.x() - frame.width() - 8, screen.right() - frame.width())
        review.move(max(x, screen.left()), max(top_right.y() + 8, screen.top()))

    def free_map_rect(self):
        """The part of the map (canvas pixels) the review dialog does not cover."""
        canvas = self.window.canvas
        rect = canvas.rect()
        if self.review is None:
            return rect
        left = canvas.mapFromGlobal(self.review.frameGeometry().topLeft()).x()
        if 0 < left < rect.width():
            rect.setRight(left - 1)
        return rect

    def _fit_in_free_rect(self, boxes) -> None:
        """Zoom and pan so that these map boxes show inside :meth:`free_map_rect` (with a margin)."""
        canvas = self.window.canvas
        free = self.free_map_rect()
        margin = min(24, free.width() // 8, free.height() // 8)
        free = free.adjusted(margin, margin, -margin, -margin)
        xmin = min(b[0] for b in boxes)
        ymin = min(b[1] for b in boxes)
        xmax = max(b[2] for b in boxes)
        ymax = max(b[3] for b in boxes)
        pad = max(xmax - xmin, ymax - ymin) * 0.15 or 30.0
        width, height = xmax - xmin + 2 * pad, ymax - ymin + 2 * pad
        mupp = max(width / max(free.width(), 1), height / max(free.height(), 1),
                   60.0 / max(min(canvas.width(), canvas.height()), 1))  # set_extent shows at least 50 m
        # the canvas as a whole at that resolution, placed so the boxes' centre is the free part's centre
        cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
        fx, fy = free.center().x(), free.center().y()
        ccx = cx + (canvas.width() / 2 - fx) * mupp
        ccy = cy - (canvas.height() / 2 - fy) * mupp
        half_w, half_h = canvas.width() * mupp / 2 / 1.1, canvas.height() * mupp / 2 / 1.1  # its 5% margin
        canvas.set_extent((ccx - half_w, ccy - half_h, ccx + half_w, ccy + half_h))

    def _fids(self, layer: str, uuids) -> list[int]:
        from layers.errors import FeatureNotFoundError

        fids = []
        for uuid in uuids:
            try:
                fids.append(self.window.workspace.find(layer, uuid).fid)
            except FeatureNotFoundError:
                continue
        return fids

    def show_matches(self, matches, layer: str) -> None:
        """Select the matched waypoints and their facilities on the map (or, with no pair, the waypoints);
        zoom to them (in the part of the map the review dialog leaves free)."""
        window = self.window
        window.clear_selection()
        matches = [m for m in matches if m.facility_uuid] or list(matches)  # pairs; else lone waypoints
        waypoints = self._fids("gps_waypoints", [m.waypoint_uuid for m in matches])
        facilities = self._fids(layer, [m.facility_uuid for m in matches if m.facility_uuid])
        window.set_selection("gps_waypoints", waypoints)
        window.set_selection(layer, facilities)
        if self.review is None:
            window.zoom_to_selection()
            return
        boxes = [f.geometry.bounds for name, fids in (("gps_waypoints", waypoints), (layer, facilities))
                 for f in window.session.features_by_fid(name, fids) if f.geometry is not None]
        if boxes:
            self._fit_in_free_rect(boxes)

    def apply(self, matches, layer: str, create_unmatched: bool = False):
        """Apply the reviewed rows as one undoable command (edit buffer); the ApplySummary, or None.

        Matched facilities move onto their waypoints; with ``create_unmatched``
        a facility is added for each unmatched waypoint, from the form: with
        one to create the form starts with the waypoint's name, and the name
        typed there is the facility's; with several, a name typed is given to
        all of them, and left empty each is named after its waypoint. Each
        waypoint is linked to its facility. Undo takes all of it back; Save
        writes it like any other edit.
        """
        from desktop import paths
        from layers.gps.matching import plan_matches

        from .commands import AddFeatureCommand, ChangeAttributesCommand, GroupCommand, MoveFeatureCommand

        window = self.window
        if not matches or not window.is_editable(layer):
            return None
        definition = window.workspace.layer(layer)
        name_field = definition.label_field or ("name" if "name" in definition.known_names else None)
        to_create = [m for m in matches if m.facility_uuid is None] if create_unmatched else []
        values: dict = {}
        if to_create:
            start = {name_field: to_create[0].waypoint_name} if name_field and len(to_create) == 1 else {}
            answer = window.prompts.new_feature(
                definition, attachments_folder=paths.attachments_folder(window.workspace.path),
                language=window.language, values=start)
            if answer is None:
                return None
            values = {k: v for k, v in answer.items() if v not in (None, "")}
        # The core decides what applying the rows does; the editor makes it one undoable command.
        command = GroupCommand(_tr("Match %n waypoint(s) to %s", "", len(matches)) % layer_title(window, layer))
        moved_fids: list[int] = []
        created_fids: list[int] = []
        try:
            plan = plan_matches(window.workspace, matches, layer=layer, create_unmatched=create_unmatched,
                                values=values)
            for fid, _uuid, geometry in plan.moves:
                command.add(MoveFeatureCommand(window.edits, layer, fid, geometry))
                moved_fids.append(fid)
            for uuid, attributes, geometry, _line in plan.creates:
                add = command.add(AddFeatureCommand(window.edits, layer, attributes, geometry, uuid=uuid))
                created_fids.append(add.fid)
            for waypoint_fid, uuid in plan.links:
                command.add(ChangeAttributesCommand(window.edits, GPS_LAYERS[1], waypoint_fid,
                                                    {"facility_layer": layer, "facility_uuid": uuid}))
        except TongchengError as exc:
            command.revert()
            show_failure(window.prompts, _tr("Apply matches"), exc, _tr("Nothing was changed.\n\n%s") % exc)
            return None
        summary = plan.summary
        if not command.parts:
            window.statusBar().showMessage(_tr("The facilities are already at their waypoints"), 6000)
            return summary
        window.undo_stack.push(command)
        window.clear_selection()
        window.set_selection(layer, moved_fids + created_fids)
        window.statusBar().showMessage(
            _tr("%n facility(ies) moved onto their waypoints", "", len(summary.moved)) + ", "
            + _tr("%n created (undoable; Save writes them)", "", len(summary.created)), 8000)
        self.matchesApplied.emit(summary)
        return summary


def install(window):
    """Add File > Import GPS… and the GPS menu to the main window; returns the GpsMenu (has retranslate())."""
    return GpsMenu(window)
