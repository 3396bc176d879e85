"""Hostile, malformed and truncated GPX: refused with the file and line, nothing yielded."""

import pytest

from layers.errors import GpsImportError
from layers.gps import read_gps, sniff_format

BILLION_LAUGHS = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE gpx [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">
<wpt lat="30.1" lon="104.1"><name>ok</name></wpt>
<wpt lat="30.2" lon="104.2"><name>&lol9;</name></wpt>
</gpx>
"""

EXTERNAL_ENTITY = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE gpx [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">
<wpt lat="30.1" lon="104.1"><name>&xxe;</name></wpt>
</gpx>
"""

EXTERNAL_DTD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE gpx SYSTEM "http://127.0.0.1:9/evil.dtd">
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">
<wpt lat="30.1" lon="104.1"><name>x</name></wpt>
</gpx>
"""

PARAMETER_ENTITY = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE gpx [ <!ENTITY % remote SYSTEM "file:///etc/passwd"> %remote; ]>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">
<wpt lat="30.1" lon="104.1"><name>x</name></wpt>
</gpx>
"""


def _read_collecting(path):
    """Read the file; return (records yielded, the GpsImportError raised)."""
    records = []
    with pytest.raises(GpsImportError) as info:
        for record in read_gps(path):
            records.append(record)
    return records, info.value


@pytest.mark.parametrize("content, fragment", [
    (BILLION_LAUGHS, "internal subset"),
    (EXTERNAL_ENTITY, "internal subset"),
    (EXTERNAL_DTD, "external DTD"),
    (PARAMETER_ENTITY, "internal subset"),
], ids=["billion-laughs", "external-entity", "external-dtd", "parameter-entity"])
def test_hostile_xml_is_refused_before_anything_is_yielded(tmp_path, content, fragment):
    path = tmp_path / "hostile.gpx"
    path.write_text(content, encoding="utf-8")
    assert sniff_format(path) == "gpx"
    records, error = _read_collecting(path)
    assert records == []
    message = str(error)
    assert message.startswith(f"{path}, line 2: refused")
    assert fragment in message
    assert "root:" not in message
    assert error.path == str(path) and error.line == 2


def test_a_bare_doctype_without_subset_or_dtd_is_harmless(tmp_path):
    path = tmp_path / "bare.gpx"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE gpx>\n'
                    '<gpx version="1.1"><wpt lat="1" lon="2"/></gpx>\n', encoding="utf-8")
    assert len(list(read_gps(path))) == 1


def test_undeclared_entity_is_malformed(tmp_path):
    path = tmp_path / "entity.gpx"
    path.write_text('<gpx version="1.1">\n<wpt lat="1" lon="2"><name>&xxe;</name></wpt>\n</gpx>\n',
                    encoding="utf-8")
    records, error = _read_collecting(path)
    assert records == []
    assert str(error).startswith(f"{path}, line 2: malformed or truncated XML (undefined entity")


def test_truncated_file_names_the_line(gpx_copy, tmp_path):
    whole = gpx_copy("korita-zbevnica.gpx").read_bytes()
    cut = whole[:50000]
    path = tmp_path / "truncated.gpx"
    path.write_bytes(cut)
    records, error = _read_collecting(path)
    last_line = cut.count(b"\n") + 1
    assert f"truncated.gpx, line {last_line}: malformed or truncated XML" in str(error)
    assert error.line == last_line
    # The whole file is smaller than one chunk, so nothing was yielded either.
    assert records == []


def test_mismatched_tag_names_the_line(tmp_path):
    path = tmp_path / "mismatch.gpx"
    path.write_text('<gpx version="1.1">\n<trk>\n<trkseg>\n</trk>\n</gpx>\n', encoding="utf-8")
    _, error = _read_collecting(path)
    assert str(error).startswith(f"{path}, line 4: malformed or truncated XML (mismatched tag")


def test_other_xml_is_not_gpx(tmp_path):
    kml = tmp_path / "doc.kml"
    kml.write_text('<?xml version="1.0"?><kml><Document/></kml>', encoding="utf-8")
    with pytest.raises(GpsImportError, match="not GPX"):
        read_gps(kml)
    wrapped = tmp_path / "wrapped.gpx"
    wrapped.write_text('<root>\n<gpx version="1.1"/></root>', encoding="utf-8")
    _, error = _read_collecting(wrapped)
    assert "line 1: not a GPX file: the root element is <root>" in str(error)
