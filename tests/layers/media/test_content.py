"""Reading a photo file: hash, MIME type from the bytes, decoding, EXIF, and every bad input refused in one line."""

import hashlib

import pytest

from layers.media.content import MediaError, read_photo, sniff_content_type
from tests.layers.media.images import PDF, jpeg, png


def test_a_jpeg_gives_its_hash_type_size_and_exif_facts(tmp_path):
    data = jpeg()
    path = tmp_path / "door.jpg"
    path.write_bytes(data)
    photo = read_photo(path)
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert photo.content_type == "image/jpeg" and photo.size == len(data) and photo.file_name == "door.jpg"
    assert photo.taken_at == "2026-05-01T10:20:30"
    assert photo.author == "Li Si"
    assert photo.lon == pytest.approx(104.0657, abs=1e-6) and photo.lat == pytest.approx(30.6598, abs=1e-6)
    assert photo.direction == pytest.approx(135.5)


def test_southern_western_positions_are_negative_and_missing_exif_is_none(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(jpeg(lon=-70.25, lat=-33.5, direction=None, taken=None, artist=None))
    photo = read_photo(path)
    assert (photo.lon, photo.lat, photo.direction) == (pytest.approx(-70.25), pytest.approx(-33.5), None)
    assert photo.taken_at is None and photo.author is None
    path.write_bytes(png())
    photo = read_photo(path)  # the type comes from the bytes, not the name
    assert photo.content_type == "image/png" and photo.lon is None


def test_types_are_sniffed_from_the_bytes():
    assert sniff_content_type(jpeg()) == "image/jpeg"
    assert sniff_content_type(png()) == "image/png"
    assert sniff_content_type(PDF) == "application/pdf"
    assert sniff_content_type(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert sniff_content_type(b"<html>") is None


@pytest.mark.parametrize("content, message", [
    (b"", r"empty file \(0 bytes\)"),
    (b"hello, this is text", "not an image"),
    (jpeg()[:200], "cannot be decoded"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "cannot be decoded"),
    (b"%PDF-1.4 no end", "damaged PDF"),
])
def test_bad_files_are_refused_in_one_line_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(MediaError, match=message) as info:
        read_photo(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.jpg"
    with open(path, "wb") as f:  # sparse: 600 MB on the name, nothing on the disk
        f.truncate(600 * 1024 * 1024)
    with pytest.raises(MediaError, match=r"600\.0 MB is over the limit of 50\.0 MB"):
        read_photo(path)
    small = tmp_path / "small.jpg"
    small.write_bytes(jpeg())
    with pytest.raises(MediaError, match="over the limit"):
        read_photo(small, max_bytes=100)
    with pytest.raises(MediaError, match="no such file"):
        read_photo(tmp_path / "missing.jpg")
