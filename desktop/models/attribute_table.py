"""The attribute table model: a lazy view of one layer, read in windows through the edit session."""

from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QFont

__all__ = ["AttributeTableModel", "FidRole", "RawValueRole", "FID_COLUMN", "WINDOW_SIZE", "CACHED_WINDOWS"]

FidRole = Qt.ItemDataRole.UserRole + 1
RawValueRole = Qt.ItemDataRole.UserRole + 2
FID_COLUMN = 0
WINDOW_SIZE = 256
CACHED_WINDOWS = 8
# Beyond this many separate runs of added or removed rows, a refresh resets the model
# instead of announcing each run (a view relayouts once per announcement).
MAX_ROW_RUNS = 64

#: The invisible root: the parent of every row (a table has no tree).
_ROOT = QModelIndex()
_DISPLAY = Qt.ItemDataRole.DisplayRole
_EDIT = Qt.ItemDataRole.EditRole
_CHECK = Qt.ItemDataRole.CheckStateRole
_NOT_EDITABLE_TYPES = ("photo", "json")  # a photo is chosen in the form; JSON is shown, not typed


class AttributeTableModel(QAbstractTableModel):
    """The features of one layer as a table: fid, then one column per field.

    Only the fids (in display order) are kept; rows are read in windows of
    ``WINDOW_SIZE`` through ``session.features_by_fid`` and the last
    ``CACHED_WINDOWS`` windows are kept, so a million rows open in a third of
    a second and scroll without freezing.

    Parameters
    ----------
    session : layers.workspace.editing.EditSession
    layer : str
    language : str
        Language of headers and code-list labels.
    parent : QObject, optional

    Roles
    -----
    DisplayRole: the text shown (code-list labels, dates as ISO text, JSON compact);
    EditRole and ``RawValueRole``: the stored value; CheckStateRole: booleans;
    ``FidRole``: the row's fid in every column.

    Editing
    -------
    ``setData`` never changes data: it emits ``editRequested(layer, fid,
    field, value)``; the window pushes an undo command and then calls
    ``refresh_fids([fid])`` (or ``refresh()`` after adds and deletes).
    A value outside a field's code list is refused (``setData`` returns False).

    Sorting
    -------
    ``sort(column, order)`` orders the rows by what the column shows: code
    lists by their label in the language, text case-insensitively, empty
    values last; the order is kept through filters and refreshes.
    """

    FidRole = FidRole
    RawValueRole = RawValueRole
    FID_COLUMN = FID_COLUMN

    editRequested = Signal(str, int, str, object)
    rowsSorted = Signal()  # the rows were put in another order (after the reset)

    def __init__(self, session, layer, *, language="zh_CN", parent=None):
        super().__init__(parent)
        self.session = session
        self.layer = layer
        self.definition = session.workspace.layer(layer)
        self.fields = self.definition.fields
        self.language = language
        self._read_only = False
        self._text = None
        self._restrict = None  # sorted unique int64 fids, or None
        self._sort = None  # (column, descending) or None: fid order
        self._windows = OrderedDict()  # window number -> list of Feature or None, aligned with rows
        self._lookup = None  # (sorted fids, their rows), built on the first row_of
        self._fids = self._query()

    # --- shape ----------------------------------------------------------------------------------

    def rowCount(self, parent=_ROOT):
        return 0 if parent.isValid() else len(self._fids)

    def columnCount(self, parent=_ROOT):
        return 0 if parent.isValid() else 1 + len(self.fields)

    def field_at(self, column):
        """The FieldDefinition of a column, or None for the fid column."""
        return self.fields[column - 1] if 1 <= column <= len(self.fields) else None

    def column_of(self, name):
        """The column of a field by name ('fid' is column 0)."""
        if name == "fid":
            return FID_COLUMN
        for i, f in enumerate(self.fields):
            if f.name == name:
                return i + 1
        raise KeyError(name)

    def fid_at(self, row):
        """The fid shown in a row."""
        return int(self._fids[row])

    def fids(self):
        """The fids of all rows in display order (a copy)."""
        return self._fids.copy()

    def row_of(self, fid):
        """The row of a fid, or -1 when it is not shown."""
        return int(self.rows_of(np.array([fid], dtype=np.int64))[0])

    def rows_of(self, fids):
        """The rows of many fids at once (-1 for those not shown), e.g. to sync a map selection."""
        fids = np.asarray(fids, dtype=np.int64)
        if self._lookup is None:
            order = np.argsort(self._fids, kind="stable")
            self._lookup = (self._fids[order], order)
        keys, rows = self._lookup
        if len(keys) == 0:
            return np.full(len(fids), -1, dtype=np.int64)
        position = np.searchsorted(keys, fids).clip(0, len(keys) - 1)
        return np.where(keys[position] == fids, rows[position], -1).astype(np.int64)

    # --- data --------------------------------------------------------------------------------------

    def _feature(self, row):
        number = row // WINDOW_SIZE
        window = self._windows.get(number)
        if window is None:
            start = number * WINDOW_SIZE
            fids = self._fids[start : start + WINDOW_SIZE]
            found = {f.fid: f for f in self.session.features_by_fid(self.layer, fids.tolist())}
            window = [found.get(int(fid)) for fid in fids]
            self._windows[number] = window
            while len(self._windows) > CACHED_WINDOWS:
                self._windows.popitem(last=False)
        else:
            self._windows.move_to_end(number)
        return window[row - number * WINDOW_SIZE]

    def data(self, index, role=_DISPLAY):
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role == FidRole:
            return int(self._fids[row])
        if column == FID_COLUMN:
            if role in (_DISPLAY, _EDIT, RawValueRole):
                return int(self._fids[row])
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if role == Qt.ItemDataRole.FontRole and self._fids[row] < 0:
                return _bold()
            return None
        if role not in (_DISPLAY, _EDIT, RawValueRole, _CHECK, Qt.ItemDataRole.ToolTipRole,
                        Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.FontRole):
            return None
        field = self.fields[column - 1]
        feature = self._feature(row)
        if feature is None:  # gone since the fids were read; a refresh will drop the row
            return None
        value = feature.attributes.get(field.name)
        if role in (_EDIT, RawValueRole):
            return value
        if role == _DISPLAY:
            return self._display(field, value)
        if role == _CHECK:
            if field.type != "boolean":
                return None
            return Qt.CheckState.Checked if value else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if field.type in ("integer", "real") and not field.codes:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role == Qt.ItemDataRole.FontRole:
            fid = feature.fid
            if fid < 0 or field.name in self.session.edits(self.layer).changed.get(fid, ()):
                return _bold()  # not yet saved
            return None
        # ToolTipRole: long text and JSON in full; a code's stored value
        if field.codes and value is not None:
            return str(value)
        if field.type == "json" and value:
            return _pretty_json(value)
        if isinstance(value, str) and len(value) > 40:
            return value
        return None

    def _display(self, field, value):
        if value is None or field.type == "boolean":
            return None
        if field.codes:
            return field.code_label(value, self.language)
        if field.type == "json":
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if field.type == "real":
            return float(value)
        return value

    def headerData(self, section, orientation, role=_DISPLAY):
        if orientation != Qt.Orientation.Horizontal:
            if role == _DISPLAY and 0 <= section < len(self._fids):
                return section + 1
            return None
        if not 0 <= section < self.columnCount():
            return None
        field = self.field_at(section)
        if role == _DISPLAY:
            return self.tr("FID") if field is None else field.label(self.language)
        if role == Qt.ItemDataRole.ToolTipRole:
            if field is None:
                return self.tr("Feature number (negative until saved)")
            text = field.name
            if field.derived:
                text += " = " + field.derived
            return text
        if role == Qt.ItemDataRole.FontRole and field is not None and field.required:
            return _bold()
        return None

    # --- editing ------------------------------------------------------------------------------------

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren
        field = self.field_at(index.column())
        if field is None or field.derived or field.type in _NOT_EDITABLE_TYPES or self._read_only \
                or field.name in self.definition.given_names or self.definition.reference:
            return flags  # computed, given by the core (component code, zone, grid cell), or a reference layer
        if field.type == "boolean":
            return flags | Qt.ItemFlag.ItemIsUserCheckable
        return flags | Qt.ItemFlag.ItemIsEditable

    def setData(self, index, value, role=_EDIT):
        """Ask for an edit: emits ``editRequested`` and leaves the data as it is."""
        editable = Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsUserCheckable
        if not index.isValid() or not (self.flags(index) & editable):
            return False
        field = self.field_at(index.column())
        if role == _CHECK and field.type == "boolean":
            value = _check_state(value) == Qt.CheckState.Checked
        elif role == _EDIT and field.type != "boolean":
            if isinstance(value, str):
                value = value.strip() or None
                if value is not None and field.codes and value not in field.code_set:
                    value = _code_for_label(field, value, self.language)
        elif role == _EDIT and field.type == "boolean":
            value = None if value is None else bool(value)
        else:
            return False
        current = self.data(index, RawValueRole)
        if _same(field, current, value):
            return True
        if value is not None and field.codes and value not in field.code_set:
            return False  # only the codes of the list
        self.editRequested.emit(self.layer, self.fid_at(index.row()), field.name, value)
        return True

    def set_read_only(self, read_only):
        """Lock or unlock editing (a locked layer)."""
        read_only = bool(read_only)
        if read_only != self._read_only:
            self._read_only = read_only
            self._all_changed()

    def is_read_only(self):
        return self._read_only

    # --- filters and refreshes -------------------------------------------------------------------------

    def set_filter(self, text=None, fids=None):
        """Show only rows matching ``text`` and/or among ``fids``; no arguments shows all.

        Parameters
        ----------
        text : str, optional
            Case-insensitive match (SQL LIKE, with parameters) on the text
            fields, on code-list labels in any language, and on the fid when
            it is a number.
        fids : iterable of int, optional
            Restrict to these fids (features visible on the map, the selection).
        """
        text = text.strip() if isinstance(text, str) else None
        self._text = text or None
        if fids is None:
            self._restrict = None
        else:
            wanted = fids if isinstance(fids, np.ndarray) else list(fids)
            self._restrict = np.unique(np.asarray(wanted, dtype=np.int64))
        self._apply(self._query())

    def filter(self):
        """(text, fids) of the current filter."""
        return self._text, None if self._restrict is None else self._restrict.copy()

    def refresh(self):
        """Read the fids again (after adds, deletes, a save or a discard) and drop cached rows.

        Rows keep their selection: added and removed rows are announced as
        such (a reset only when very many changed).
        """
        self._apply(self._query())

    def refresh_fids(self, fids):
        """Read these features again (after an attribute edit): targeted dataChanged."""
        rows = self.rows_of(np.asarray(list(fids), dtype=np.int64))
        rows = np.sort(rows[rows >= 0])
        if len(rows) == 0:
            return
        for number in np.unique(rows // WINDOW_SIZE):
            self._windows.pop(int(number), None)
        last = self.columnCount() - 1
        start = previous = int(rows[0])
        for row in [*rows[1:].tolist(), None]:
            if row is not None and row == previous + 1:
                previous = row
                continue
            self.dataChanged.emit(self.index(start, 0), self.index(previous, last))
            if row is not None:
                start = previous = row

    def set_language(self, language):
        """Switch headers and code-list labels to another language."""
        if language == self.language:
            return
        self.language = language
        if self.columnCount():
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.columnCount() - 1)
        self._all_changed()

    def _all_changed(self):
        if self._fids.size and self.columnCount():
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._fids) - 1, self.columnCount() - 1))

    def sort(self, column, order=Qt.SortOrder.AscendingOrder):
        """Order the rows by a column as shown (labels of code lists in the language); -1 for fid order."""
        descending = order == Qt.SortOrder.DescendingOrder
        field = self.field_at(column)
        sort = (column, descending) if field is not None or (column == FID_COLUMN and descending) else None
        if sort == self._sort:
            return
        self._sort = sort
        self.beginResetModel()
        self._fids = self._query()
        self._windows.clear()
        self._lookup = None
        self.endResetModel()
        self.rowsSorted.emit()

    def sort_order(self):
        """(column, descending) of the current sort, or None (fid order)."""
        return self._sort

    def _query(self):
        where, parameters = self._where()
        fids = np.asarray(self.session.fids(self.layer, where, parameters), dtype=np.int64)
        if self._restrict is not None:
            fids = fids[np.isin(fids, self._restrict)]
        if self._sort is not None:
            fids = self._sorted(fids)
        return fids

    def _sorted(self, fids):
        column, descending = self._sort
        field = self.field_at(column)
        if field is None:
            return np.sort(fids)[::-1].copy() if descending else fids
        every, values = self.session.field_values(self.layer, field.name)
        value_of = dict(zip(every.tolist(), values, strict=True))
        keys = [self._sort_key(field, value_of.get(fid)) for fid in fids.tolist()]
        # empty values last in both directions
        order = sorted(range(len(keys)), key=lambda i: (keys[i][0] != descending, keys[i][1]), reverse=descending)
        return fids[np.asarray(order, dtype=np.int64)] if order else fids

    def _sort_key(self, field, value):
        """(is empty, comparable key) of a value as the column shows it."""
        numeric = field.type in ("integer", "real", "boolean") and not field.codes
        if value is None or value == "":
            return True, 0.0 if numeric else ""
        if numeric:
            try:
                return False, float(value)
            except (TypeError, ValueError):
                return False, 0.0
        if field.codes:
            return False, str(field.code_label(value, self.language)).casefold()
        return False, str(value).casefold()

    def _where(self):
        """The SQL condition of the text filter and its parameters (values are never put in the SQL)."""
        if not self._text:
            return None, ()
        pattern = "%" + self._text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        needle = self._text.casefold()
        terms, parameters = [], []
        for f in self.fields:
            if f.type != "text":
                continue
            terms.append(f"{f.name} LIKE ? ESCAPE '\\'")
            parameters.append(pattern)
            if f.codes:
                values = [c.value for c in f.codes if any(needle in label.casefold() for label in c.labels.values())]
                if values:
                    terms.append(f"{f.name} IN ({', '.join('?' * len(values))})")
                    parameters.extend(values)
        if self._text.lstrip("-").isdigit():
            terms.append("fid = ?")
            parameters.append(int(self._text))
        if not terms:
            return "0", ()
        return "(" + " OR ".join(terms) + ")", tuple(parameters)

    def _apply(self, new):
        """Replace the fids, announcing removed and inserted rows (or a reset when many changed)."""
        old = self._fids
        self._windows.clear()
        self._lookup = None
        if len(old) == len(new) and np.array_equal(old, new):
            self._all_changed()
            return
        removed = ~np.isin(old, new, assume_unique=True)
        inserted = ~np.isin(new, old, assume_unique=True)
        removed_runs = _runs(np.flatnonzero(removed))
        inserted_runs = _runs(np.flatnonzero(inserted))
        if (len(removed_runs) + len(inserted_runs) > MAX_ROW_RUNS or len(old) == 0 or len(new) == 0
                or not np.array_equal(old[~removed], new[~inserted])):
            self.beginResetModel()
            self._fids = new
            self.endResetModel()
            return
        for start, stop in reversed(removed_runs):
            self.beginRemoveRows(QModelIndex(), start, stop)
            self._fids = np.delete(self._fids, np.s_[start : stop + 1])
            self.endRemoveRows()
        for start, stop in inserted_runs:
            self.beginInsertRows(QModelIndex(), start, stop)
            self._fids = np.insert(self._fids, start, new[start : stop + 1])
            self.endInsertRows()
        self._windows.clear()
        self._lookup = None
        self._all_changed()  # rows that stayed may have moved between windows or changed


def _runs(positions):
    """Consecutive runs [(start, stop), ...] of sorted positions."""
    if len(positions) == 0:
        return []
    breaks = np.flatnonzero(np.diff(positions) != 1)
    starts = np.concatenate([[positions[0]], positions[breaks + 1]])
    stops = np.concatenate([positions[breaks], [positions[-1]]])
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def _check_state(value):
    if isinstance(value, Qt.CheckState):
        return value
    try:
        return Qt.CheckState(int(value))
    except (TypeError, ValueError):
        return Qt.CheckState.Checked if value else Qt.CheckState.Unchecked


def _code_for_label(field, text, language):
    """The stored value whose label (in the language, else any) is ``text``; else ``text`` itself."""
    for code in field.codes:
        if code.label(language) == text:
            return code.value
    for code in field.codes:
        if text in code.labels.values():
            return code.value
    return text


def _same(field, current, value):
    if field.type == "boolean":
        return current is not None and value is not None and bool(current) == bool(value)
    if field.type in ("date", "datetime") and value is not None and hasattr(value, "isoformat"):
        return current == value.isoformat() if field.type == "date" else False
    return current == value and (current is None) == (value is None)


def _pretty_json(value):
    try:
        return json.dumps(json.loads(value) if isinstance(value, str) else value, ensure_ascii=False, indent=2)
    except (TypeError, ValueError):
        return str(value)


_BOLD = None


def _bold():
    global _BOLD
    if _BOLD is None:
        _BOLD = QFont()
        _BOLD.setBold(True)
    return _BOLD
