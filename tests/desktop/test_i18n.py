"""Languages: the zh_CN catalogue is complete, and switching turns our widgets and Qt's own Chinese."""

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from desktop import i18n
from desktop.forms import FeatureForm
from layers.schema.definitions import load_definitions

TS = i18n.translations_folder() / "tongcheng_zh_CN.ts"
BUILD = i18n.translations_folder() / "build.py"


@pytest.fixture(scope="module")
def built_catalogue():
    """The .qm built from the committed .ts (setup.sh builds it; here too when missing or stale)."""
    qm = TS.with_suffix(".qm")
    if not qm.exists() or qm.stat().st_mtime < TS.stat().st_mtime:
        subprocess.run([sys.executable, str(BUILD)], check=True, capture_output=True)
    return qm


@pytest.fixture
def app(qapp, built_catalogue):
    yield qapp
    i18n.install_translators(qapp, "en")  # leave the other tests in English


def test_catalogue_is_complete():
    root = ET.parse(TS).getroot()
    assert root.get("language") == "zh_CN" and root.get("sourcelanguage") == "en"
    messages = root.findall("./context/message")
    assert len(messages) > 50
    for message in messages:
        source = message.find("source").text
        translation = message.find("translation")
        assert translation.get("type") not in ("unfinished", "vanished", "obsolete"), source
        forms = translation.findall("numerusform") if message.get("numerus") == "yes" else [translation]
        assert forms and all((f.text or "").strip() for f in forms), source
        # placeholders survive translation
        for placeholder in ("{0}", "{field}", "{rule}", "%s", "%d", "%n"):
            for form in forms:
                assert source.count(placeholder) == form.text.count(placeholder), (source, form.text)


def test_available_languages_and_names():
    assert i18n.available_languages()[:1] == ["en"]
    assert "zh_CN" in i18n.available_languages()
    assert i18n.language_name("zh_CN") == "简体中文"
    assert i18n.language_name("en") == "American English" or i18n.language_name("en").endswith("English")
    assert i18n.system_language() in i18n.available_languages()


@pytest.mark.parametrize("locale, expected", [
    ("zh_CN", "zh_CN"), ("zh-Hans-CN", "zh_CN"), ("zh_TW", "zh_CN"), ("zh", "zh_CN"),
    ("en_GB", "en"), ("fr_FR", "en"), ("C", "en"), ("", "en"), (None, "en"),
])
def test_locales_map_to_available_languages(locale, expected):
    assert i18n.normalize_language(locale) == expected


def test_switching_to_chinese_translates_our_widgets_and_qt_buttons(app, qtbot, tmp_path):
    definition = load_definitions()["toilets"]
    form = FeatureForm(definition, attachments_folder=tmp_path / "a.attachments", language="zh_CN")
    qtbot.addWidget(form)
    ok = form.button_box.button(QDialogButtonBox.StandardButton.Ok)
    cancel = form.button_box.button(QDialogButtonBox.StandardButton.Cancel)
    assert form.required_note.text() == "Fields marked * are required."
    assert ok.text().replace("&", "") == "OK"

    translators = i18n.install_translators(app, "zh_CN")
    assert len(translators) == 2  # ours and qtbase
    qtbot.waitUntil(lambda: form.required_note.text() == "标有 * 的字段为必填项。")  # retranslated on LanguageChange
    assert form.windowTitle() == "公厕：新建要素"
    assert form.editor("photo").choose_button.text() == "选择照片…"
    qtbot.waitUntil(lambda: ok.text().replace("&", "") == "确定")
    assert cancel.text().replace("&", "").startswith("取消")

    # a widget made after the switch is Chinese from the start, Qt's buttons too
    fresh = FeatureForm(definition, {"name": "甲"}, attachments_folder=tmp_path / "a.attachments", read_only=True)
    qtbot.addWidget(fresh)
    assert fresh.windowTitle() == "公厕：要素属性"
    assert fresh.button_box.button(QDialogButtonBox.StandardButton.Close).text().replace("&", "") == "关闭"
    assert QCoreApplication.translate("ValidationMessage", "{field}: a value is required") == "{field}：必须填写"

    # switching back removes the translators installed before
    back = i18n.install_translators(app, "en")  # only Qt's own English catalogue (plural forms)
    assert len(back) <= 1 and all(t not in back for t in translators)
    qtbot.waitUntil(lambda: form.required_note.text() == "Fields marked * are required.")
    qtbot.waitUntil(lambda: ok.text().replace("&", "") == "OK")


def test_installing_twice_keeps_one_set(app):
    first = i18n.install_translators(app, "zh_CN")
    second = i18n.install_translators(app, "zh_CN")
    assert len(second) == 2 and not set(map(id, first)) & set(map(id, second))
    assert QApplication.translate("PhotoEditor", "No photo") == "无照片"


def test_every_string_in_the_sources_has_a_chinese_translation(tmp_path):
    # Collect the strings of desktop/ now (lupdate) into a copy of the committed catalogue:
    # a string added without a translation shows up as unfinished.
    import importlib.util
    import shutil
    import xml.etree.ElementTree as ET
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "resources" / "translations"
    spec = importlib.util.spec_from_file_location("translations_build", folder / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    copy = tmp_path / "tongcheng_zh_CN.ts"
    shutil.copy2(folder / "tongcheng_zh_CN.ts", copy)
    build.update([copy])
    untranslated = [
        (context.findtext("name"), message.findtext("source"))
        for context in ET.parse(copy).getroot().findall("context")
        for message in context.findall("message")
        if message.find("translation").get("type") == "unfinished" or not message.findtext("translation")
    ]
    assert untranslated == []
