"""Interface languages: find, install and switch the Qt translators (ours and Qt's own)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

from layers.log import logger

__all__ = [
    "SOURCE_LANGUAGE",
    "APP_CATALOG",
    "QT_CATALOGS",
    "translations_folder",
    "qt_translations_folder",
    "available_languages",
    "language_name",
    "normalize_language",
    "system_language",
    "install_translators",
    "installed_translators",
]

_log = logger(__name__)

# The language the source strings are written in (needs no translator).
SOURCE_LANGUAGE = "en"
# Our catalogue: resources/translations/tongcheng_<language>.qm
APP_CATALOG = "tongcheng"
# Qt's own catalogues loaded with ours (standard buttons, dialogs, context menus).
QT_CATALOGS = ("qtbase",)

_installed = []  # the translators install_translators put on the application


def translations_folder():
    """The folder of our .ts/.qm files.

    The one place that knows where our resources are: from the source tree
    ``<repo>/resources/translations``; in a PyInstaller bundle
    ``<bundle>/resources/translations``. When ``desktop/paths.py`` arrives,
    this delegates to it.
    """
    try:
        from desktop import paths  # noqa: PLC0415 - optional, owned by the composition root
    except ImportError:
        paths = None
    if paths is not None and hasattr(paths, "translations_folder"):
        return Path(paths.translations_folder())
    if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS"):
        return Path(sys._MEIPASS) / "resources" / "translations"
    return Path(__file__).resolve().parents[1] / "resources" / "translations"


def qt_translations_folder():
    """Qt's own translations (qtbase_zh_CN.qm ...): the folder PySide6 ships them in."""
    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))


def available_languages():
    """Language codes the interface can be shown in, the source language first, e.g. ['en', 'zh_CN'].

    A language is available when its catalogue is there, built (.qm) or
    not yet built (.ts, see ``resources/translations/build.py``).
    """
    folder = translations_folder()
    found = {path.stem[len(APP_CATALOG) + 1 :]
             for pattern in ("*.qm", "*.ts") for path in folder.glob(f"{APP_CATALOG}_{pattern}")}
    return [SOURCE_LANGUAGE, *sorted(found - {SOURCE_LANGUAGE})]


def language_name(language):
    """A language's name in that language, for a settings menu (e.g. '简体中文', 'English')."""
    locale = QLocale(language)
    if locale.language() == QLocale.Language.Chinese:
        return "简体中文" if locale.script() != QLocale.Script.TraditionalChineseScript else "繁體中文"
    return locale.nativeLanguageName() or language


def normalize_language(language):
    """The available language that best fits a locale name ('zh-Hans-CN', 'zh_TW', 'en_GB' ...)."""
    if not language:
        return SOURCE_LANGUAGE
    available = available_languages()
    name = str(language).replace("-", "_")
    if name in available:
        return name
    locale = QLocale(name)
    if locale.language() == QLocale.Language.C:
        return SOURCE_LANGUAGE
    candidates = [code for code in available if QLocale(code).language() == locale.language()]
    if not candidates:
        return SOURCE_LANGUAGE
    exact = [code for code in candidates if QLocale(code).territory() == locale.territory()]
    return (exact or candidates)[0]


def system_language():
    """The available language that follows the system locale (English when none fits)."""
    for name in QLocale.system().uiLanguages():
        language = normalize_language(name)
        if language != SOURCE_LANGUAGE or QLocale(name.replace("-", "_")).language() == QLocale.Language.English:
            return language
    return SOURCE_LANGUAGE


def install_translators(app, language):
    """Put the translators of a language on the application, removing those installed before.

    Installing sends every widget a LanguageChange event, so widgets that
    retranslate in ``changeEvent`` switch at once (Qt's own widgets do).

    Parameters
    ----------
    app : QCoreApplication
    language : str
        'zh_CN', 'en', ... (see ``available_languages``); the source
        language installs no catalogue of ours.

    Returns
    -------
    list of QTranslator
        Those installed: ours (``tongcheng_<language>.qm``) and Qt's
        (``qtbase_<language>.qm``) where found. A missing catalogue is
        logged, not raised: the interface then stays in English.
    """
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    language = normalize_language(language)
    QLocale.setDefault(QLocale(language))
    catalogues = [(APP_CATALOG, translations_folder())]
    catalogues += [(name, qt_translations_folder()) for name in QT_CATALOGS]
    loaded = []
    for name, folder in catalogues:
        translator = QTranslator(app)
        if translator.load(f"{name}_{language}", str(folder)):
            loaded.append(translator)
        elif not (language == SOURCE_LANGUAGE or name != APP_CATALOG and language.startswith("en")):
            _log.warning("no %s translation for %s in %s (run resources/translations/build.py)", name, language, folder)
    if language == SOURCE_LANGUAGE and len(loaded) > 1:
        # English needs only plural forms ("1 feature", "2 features"): ours and Qt's, asked in turn by one translator
        loaded = [_PluralForms(loaded, app)]
    for translator in loaded:
        if app.installTranslator(translator):
            _installed.append(translator)
    return list(_installed)


class _PluralForms(QTranslator):
    """The source language's catalogues (plural forms only) as one translator: the first that knows a text."""

    def __init__(self, translators, parent=None):
        super().__init__(parent)
        self.translators = list(translators)
        for translator in self.translators:
            translator.setParent(self)

    def translate(self, context, source_text, disambiguation=None, n=-1):  # noqa: D102
        for translator in self.translators:
            text = translator.translate(context, source_text, disambiguation, n)
            if text:
                return text
        return None  # a null string: not translated here (an empty one would be a translation)

    def isEmpty(self) -> bool:
        return all(t.isEmpty() for t in self.translators)


def installed_translators():
    """The translators installed by the last ``install_translators`` call."""
    return list(_installed)
