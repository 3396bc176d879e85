"""File > Import inventory… in the real window (issue 14): mapping table, preview, report, one undoable import."""

from __future__ import annotations

import openpyxl
import pyproj
from PySide6.QtWidgets import QApplication

from desktop.dialogs.import_inventory import PREVIEW_ROWS, ImportInventoryDialog

TO_WGS84 = pyproj.Transformer.from_crs("EPSG:4544", "EPSG:4326", always_xy=True)


def _workbook(path, window, rows=30):
    """An XLSX of toilets near the demo district's features: Chinese headers, one bad status, one row in Beijing."""
    features = list(window.workspace.features("toilets"))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "公厕"
    sheet.append(["名称", "状态", "区县", "男厕位", "经度", "纬度"])
    for i in range(rows):
        lon, lat = TO_WGS84.transform(features[i % len(features)].geometry.x + 30.0 + i,
                                      features[i % len(features)].geometry.y + 20.0)
        status = "坏了" if i == 3 else "在用"
        if i == 5:
            lon, lat = 116.40, 39.91  # Beijing: outside the workspace CRS's area of use
        sheet.append([f"导入公厕{i}", status, "锦江区", 4, lon, lat])
    workbook.save(path)
    return path


def test_import_inventory_dialog_maps_checks_and_imports_as_one_undoable_edit(qtbot, window, prompts, tmp_path):
    path = _workbook(tmp_path / "公厕台账.xlsx", window)
    before = window.session.count("toilets")
    seen = {}

    def script(dialog: ImportInventoryDialog) -> bool:
        dialog.show()
        assert dialog.set_file(str(path))
        dialog.set_layer("toilets")
        # prefilled from the suggested mapping: Chinese headers matched to the fields' labels
        assert dialog.column_for("name") == "名称" and dialog.column_for("status") == "状态"
        assert (dialog.x_combo.currentText(), dialog.y_combo.currentText()) == ("经度", "纬度")
        assert dialog.preview_table.rowCount() == min(30, PREVIEW_ROWS)
        assert dialog.preview_table.horizontalHeaderItem(0).text() == "名称"
        dialog.set_column("seats_male", "")            # the user leaves a column out
        dialog.set_column("seats_male", "男厕位")       # ... and puts it back
        dialog.crs_combo.setCurrentText("EPSG:4326")
        assert not dialog.import_button.isEnabled()    # nothing checked yet
        plan = dialog.check()
        assert plan is not None and len(plan.rows) == 28 and plan.invalid_rows == [5, 7]  # sheet rows 5 and 7
        report = [dialog.report_table.item(r, 1).text() for r in range(dialog.report_table.rowCount())]
        assert sorted(report) == ["geom", "status"]
        assert "28 pass" in dialog.summary.text() and "2 break a rule" in dialog.summary.text()
        assert len(dialog.points.good) == 28 and len(dialog.points.bad) == 1  # Beijing drawn red; 坏了 has no place
        assert not dialog.import_button.isEnabled()    # rows break a rule: not without leaving them out
        dialog.skip_invalid.setChecked(True)
        assert dialog.import_button.isEnabled()
        seen["grab"] = dialog.grab()
        dialog.import_button.click()
        return dialog.result() == dialog.DialogCode.Accepted

    prompts.inventory_dialog = script
    menu = next(e for e in window.extensions if type(e).__name__ == "ImportMenu")
    assert "Import &inventory…" in [a.text() for a in window.file_menu.actions()]
    with qtbot.waitSignal(menu.inventoryImported, timeout=30000) as blocker:
        window.actions["import_inventory"].trigger()
    counts = blocker.args[0]
    assert (len(counts.added), len(counts.changed), counts.left_out) == (28, 0, 2)
    assert not seen["grab"].isNull()
    assert window.session.count("toilets") == before + 28 and window.is_modified()
    added = window.session.features_by_fid("toilets", counts.added)
    assert {f.attributes["name"] for f in added} >= {"导入公厕0", "导入公厕29"}
    assert all(f.attributes["status"] == "在用" and f.attributes["seats_male"] == 4 for f in added)
    assert window.undo_stack.count() == 1                  # one command for the whole import
    window.undo_stack.undo()
    assert window.session.count("toilets") == before and not window.is_modified()
    window.undo_stack.redo()
    assert window.session.count("toilets") == before + 28
    window.save()
    assert window.workspace.count("toilets") == before + 28
    assert window.workspace.pending_changes()["toilets"]["insert"] == 28  # goes to the office with the changes


def test_a_key_match_updates_features_and_cancel_leaves_nothing(qtbot, window, prompts, tmp_path):
    features = list(window.workspace.features("toilets"))[:3]
    path = tmp_path / "updates.csv"
    lines = ["名称,状态,经度,纬度"]
    for f in features:
        lon, lat = TO_WGS84.transform(f.geometry.x, f.geometry.y)
        lines.append(f"{f.attributes['name']},停用,{lon:.9f},{lat:.9f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def script(dialog):
        assert dialog.set_file(str(path))
        dialog.set_layer("toilets")
        dialog.key_combo.setCurrentIndex(dialog.key_combo.findData("name"))
        dialog.crs_combo.setCurrentText("EPSG:4326")
        plan = dialog.check()
        assert plan.matched == 3 and plan.new == 0 and not plan.problems
        dialog.import_button.click()
        return True

    prompts.inventory_dialog = script
    menu = next(e for e in window.extensions if type(e).__name__ == "ImportMenu")
    counts = menu.import_inventory()
    assert (len(counts.added), len(counts.changed)) == (0, 3)
    for f in features:
        assert window.session.feature("toilets", f.fid).attributes["status"] == "停用"
    window.undo_stack.undo()
    for f in features:
        assert window.session.feature("toilets", f.fid).attributes["status"] == f.attributes["status"]

    prompts.inventory_dialog = lambda dialog: False      # Cancel in the dialog: nothing happens
    assert menu.import_inventory() is None and not window.is_modified()


def test_an_unreadable_file_is_said_in_the_dialog(qtbot, window, prompts, tmp_path):
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"not a workbook")
    dialog = ImportInventoryDialog(window.workspace, [("toilets", "Public toilets")], "en", str(tmp_path), window)
    try:
        assert not dialog.set_file(str(bad))
        assert "broken.xlsx" in dialog.summary.text()
        assert not dialog.check_button.isEnabled() and not dialog.import_button.isEnabled()
    finally:
        dialog.deleteLater()
        QApplication.processEvents()


def test_a_check_that_cannot_run_says_why_in_the_dialog(qtbot, window, tmp_path):
    path = tmp_path / "no_crs.csv"
    path.write_text("名称,经度,纬度\n甲,104.08,30.65\n", encoding="utf-8")
    dialog = ImportInventoryDialog(window.workspace, [("toilets", "Public toilets")], "en", str(tmp_path), window)
    try:
        assert dialog.set_file(str(path))
        dialog.set_column("name", "")  # no name column: a required field without a value or default
        assert dialog.check() is None
        assert "name" in dialog.summary.text() and "required" in dialog.summary.text()
        assert not dialog.import_button.isEnabled()
    finally:
        dialog.deleteLater()
        QApplication.processEvents()
