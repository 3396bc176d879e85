"""GPX files in the encodings Chinese apps write (issue 15): read in the declared encoding; an encoding
that cannot be read is a clear error for that file alone."""

import pytest

from layers.gps import read_gps
from layers.gps.importer import import_gps
from layers.gps.records import Track, Waypoint
from tests.conftest import TESTDATA

from .test_cli_gps import tongcheng

GBK = TESTDATA / "gps" / "gbk_survey.gpx"
NAMES = ["公厕 锦江区 17号", "垃圾桶 丙-3"]


def _declaring(tmp_path, name, encoding, *, extra_name=None):
    """The GBK sample re-encoded in ``encoding`` and declaring ``name``."""
    text = GBK.read_bytes().decode("gbk").replace('encoding="GBK"', f'encoding="{name}"')
    if extra_name:
        text = text.replace("垃圾桶 丙-3", extra_name)
    path = tmp_path / f"{name}.gpx"
    path.write_bytes(text.encode(encoding))
    return path


def _read(path):
    reader = read_gps(path)
    records = list(reader)
    return [r for r in records if isinstance(r, Waypoint)], [r for r in records if isinstance(r, Track)], reader.stats


def test_the_gbk_sample_really_is_gbk():
    data = GBK.read_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="GBK"?>')
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_gbk_gpx_is_read_in_its_encoding():
    waypoints, (track,), stats = _read(GBK)
    assert [w.name for w in waypoints] == NAMES
    assert waypoints[0].desc == "巡查：门锁损坏"
    assert track.name == "人民南路 巡查" and stats.creator == "两步路 户外助手"
    assert len(track.segments[0]) == 12


@pytest.mark.parametrize(("declared", "codec", "name"), [
    ("GB2312", "gb2312", "垃圾桶 丙-3"),
    ("gb18030", "gb18030", "垃圾桶 𠀀-3"),        # a character only GB18030 has (four bytes)
    ("GBK", "gb18030", "垃圾桶 丙-3"),             # GBK text is GB18030 text
])
def test_gb_encodings(tmp_path, declared, codec, name):
    path = _declaring(tmp_path, declared, codec, extra_name=name)
    waypoints, (track,), _ = _read(path)
    assert [w.name for w in waypoints] == [NAMES[0], name]


def test_gbk_gpx_imports_and_other_files_too(workspace, tmp_path):
    gbk = tmp_path / GBK.name
    gbk.write_bytes(GBK.read_bytes())
    unknown = _declaring(tmp_path, "x-klingon", "utf-8")
    wrong = tmp_path / "says-gbk.gpx"
    wrong.write_bytes(GBK.read_bytes().replace("公厕".encode("gbk"), b"\x81\x20"))   # not a GBK character
    summary = import_gps(workspace, [unknown, gbk, wrong])
    bad, good, broken = summary.files
    assert good.imported and good.stored_waypoints == 2 and good.stored_tracks == 1
    assert sorted(f.attributes["name"] for f in workspace.features("gps_waypoints")) == sorted(NAMES)
    assert bad.error == (f"{unknown}, line 1: declares the encoding 'x-klingon', which is not known: save the "
                         "file as UTF-8 (or declare the encoding it is really in)")
    assert broken.error.startswith(f"{wrong}, line 3: bytes that are not gb18030")
    assert "--tz" not in bad.error + broken.error


def test_undeclared_gbk_says_the_file_is_not_utf8(workspace, tmp_path):
    path = tmp_path / "undeclared.gpx"
    path.write_bytes(GBK.read_bytes().replace(b' encoding="GBK"', b""))
    (f,) = import_gps(workspace, [path]).files
    # line 2: the <gpx creator="..."> attribute, the first non-ASCII text
    assert f.error.startswith(f"{path}, line 2: malformed or truncated XML (not well-formed (invalid token)")
    assert "the file is not UTF-8: declare its encoding" in f.error


def test_cli_imports_gbk_next_to_a_bad_encoding(tmp_path):
    from layers.workspace.store import Workspace

    ws = tmp_path / "ws.sqlite"
    with Workspace.create(ws, user="张三"):
        pass
    gbk = tmp_path / GBK.name
    gbk.write_bytes(GBK.read_bytes())
    unknown = _declaring(tmp_path, "x-klingon", "utf-8")
    result = tongcheng("gps", "import", ws, gbk, unknown)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"tongcheng: error: {unknown}, line 1: declares the encoding 'x-klingon', which is not known: save the "
        "file as UTF-8 (or declare the encoding it is really in)"]
    assert "--tz" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[2].split()[0] == "gbk_survey.gpx" and lines[2].endswith("imported")
    with Workspace.open(ws) as workspace:
        assert workspace.count("gps_waypoints") == 2 and workspace.count("gps_tracks") == 1
