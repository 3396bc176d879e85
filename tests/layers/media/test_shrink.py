"""Shrink on import: the longest edge and JPEG quality of the setting, the original EXIF kept."""

import io

import pytest
from PIL import Image

from layers.media import add_photos
from layers.media.content import MediaError, photo_from_bytes
from layers.media.shrink import Shrink, shrink_photo
from layers.media.tables import media_data, photo_links
from tests.layers.media.images import PDF, jpeg, png
from tests.layers.test_cli import run


def _noisy_jpeg(size=(3000, 2000), **exif):
    """A large JPEG whose pixels vary (so it is big on disk), with the EXIF of ``images.jpeg``."""
    import numpy as np

    base = Image.open(io.BytesIO(jpeg(size=size, **exif)))
    noise = np.random.default_rng(1).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(noise).save(out, "JPEG", quality=95, exif=base.info["exif"])
    return out.getvalue()


def test_a_large_jpeg_is_scaled_to_the_longest_edge_keeping_its_exif():
    original = photo_from_bytes(_noisy_jpeg(), "big.jpg", file_name="big.jpg")
    small = shrink_photo(original, Shrink(max_edge=1200, quality=70))
    with Image.open(io.BytesIO(small.data)) as image:
        assert image.size == (1200, 800) and image.format == "JPEG"
        assert image.info["exif"] == Image.open(io.BytesIO(original.data)).info["exif"]
    assert small.size < original.size / 2
    again = photo_from_bytes(small.data, "small.jpg")  # the facts read from the scaled photo are the same
    assert (again.taken_at, again.author, again.lon, again.lat, again.direction) == (
        original.taken_at, original.author, original.lon, original.lat, original.direction)
    assert small.sha256 == again.sha256 and small.file_name == "big.jpg"


def test_small_photos_and_other_types_are_kept_as_they_are():
    setting = Shrink(max_edge=1600)
    for data in (jpeg(), png(), PDF):
        photo = photo_from_bytes(data, "x")
        assert shrink_photo(photo, setting) is photo


def test_a_large_png_stays_a_png():
    out = io.BytesIO()
    Image.new("RGB", (2000, 500), (10, 200, 30)).save(out, "PNG")
    small = shrink_photo(photo_from_bytes(out.getvalue(), "wide.png"), Shrink(max_edge=400))
    with Image.open(io.BytesIO(small.data)) as image:
        assert image.format == "PNG" and image.size == (400, 100)


@pytest.mark.parametrize("edge, quality", [(0, 85), (1600, 0), (1600, 100)])
def test_a_setting_out_of_range_is_refused(edge, quality):
    with pytest.raises(MediaError):
        Shrink(edge, quality)


def test_add_photos_shrinks_and_the_cli_says_so(demo_workspace, tmp_path):
    big = tmp_path / "big.jpg"
    big.write_bytes(_noisy_jpeg())
    ws = demo_workspace
    uuid = next(ws.features("toilets")).uuid
    (photo,) = add_photos(ws, "toilets", uuid, [big], shrink=Shrink(1000, 80))
    stored = media_data(ws.connection, photo.sha256)
    with Image.open(io.BytesIO(stored)) as image:
        assert max(image.size) == 1000
    (link,) = photo_links(ws.connection)
    assert link.taken_at == "2026-05-01T10:20:30" and link.size == len(stored) < big.stat().st_size
    ws.close()

    other = next(iter([u for u in _uuids(ws.path) if u != uuid]))
    result = run("photos", "add", ws.path, "--layer", "toilets", "--uuid", other, "--max-edge", "800",
                 "--quality", "60", big)
    assert result.returncode == 0, result.stderr
    assert "scaled down to 800 px on its longest edge, quality 60" in result.stdout and "EXIF kept" in result.stdout
    refused = run("photos", "add", ws.path, "--layer", "toilets", "--uuid", other, "--quality", "60", big)
    assert refused.returncode == 1 and "--quality needs --max-edge" in refused.stderr


def _uuids(path):
    from layers.workspace.store import Workspace

    with Workspace.open(path) as ws:
        return [f.uuid for f in ws.features("toilets")]
