"""GCJ-02 and BD-09 conversions against published reference pairs; inverses under 1 m."""

import numpy as np
import pytest
from pyproj import Geod

from layers.crs import china as cc

GEOD = Geod(ellps="WGS84")


def metres(lon1, lat1, lon2, lat2):
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


# (WGS84 lon, lat) -> (GCJ-02 lon, lat)
WGS_GCJ = [
    # wandergis/coordtransform, test/app.js: wgs84togcj02(116.404, 39.915)
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    # googollee/eviltransform, python tests (TESTS, "shanghai")
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    # googollee/eviltransform, python tests (TESTS, "shenzhen")
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    # googollee/eviltransform, python tests (TESTS, "beijing")
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]
# (GCJ-02 lon, lat) -> (BD-09 lon, lat)
GCJ_BD = [
    # wandergis/coordtransform, test/app.js: gcj02tobd09(116.404, 39.915)
    ((116.404, 39.915), (116.41036949371029, 39.92133699351021)),
]
# Published *approximate* inverses (one-step formulas), good to about a metre:
APPROXIMATE = [
    # wandergis/coordtransform, test/app.js: gcj02towgs84(116.404, 39.915)
    ("gcj02_to_wgs84", (116.404, 39.915), (116.39775550083061, 39.91359571849836)),
    # wandergis/coordtransform, test/app.js: bd09togcj02(116.404, 39.915)
    ("bd09_to_gcj02", (116.404, 39.915), (116.39762729119315, 39.90865673957631)),
]


@pytest.mark.parametrize("wgs, gcj", WGS_GCJ)
def test_wgs84_to_gcj02_matches_reference(wgs, gcj):
    lon, lat = cc.wgs84_to_gcj02(*wgs)
    assert isinstance(lon, float)
    assert metres(lon, lat, *gcj) < 0.001


@pytest.mark.parametrize("wgs, gcj", WGS_GCJ)
def test_gcj02_to_wgs84_inverse_under_a_metre(wgs, gcj):
    lon, lat = cc.gcj02_to_wgs84(*gcj)
    assert metres(lon, lat, *wgs) < 0.01       # far under the 1 m required


@pytest.mark.parametrize("gcj, bd", GCJ_BD)
def test_bd09_reference_and_inverse(gcj, bd):
    assert metres(*cc.gcj02_to_bd09(*gcj), *bd) < 0.001
    assert metres(*cc.bd09_to_gcj02(*bd), *gcj) < 0.01


@pytest.mark.parametrize("name, given, published", APPROXIMATE)
def test_agrees_with_published_approximate_inverses(name, given, published):
    ours = getattr(cc, name)(*given)
    assert metres(*ours, *published) < 2.0


def test_vectorised_round_trips_over_china():
    lon, lat = np.meshgrid(np.linspace(75, 135, 61), np.linspace(18, 53, 36))
    g_lon, g_lat = cc.wgs84_to_gcj02(lon, lat)
    assert g_lon.shape == lon.shape
    assert metres(g_lon, g_lat, lon, lat).max() > 100            # the offset is real
    w_lon, w_lat = cc.gcj02_to_wgs84(g_lon, g_lat)
    assert metres(w_lon, w_lat, lon, lat).max() < 0.01
    b_lon, b_lat = cc.wgs84_to_bd09(lon, lat)
    w_lon, w_lat = cc.bd09_to_wgs84(b_lon, b_lat)
    assert metres(w_lon, w_lat, lon, lat).max() < 0.01
    # The array path gives what the scalar path gives.
    assert (float(g_lon[3, 7]), float(g_lat[3, 7])) == cc.wgs84_to_gcj02(lon[3, 7], lat[3, 7])


def test_outside_china_is_unchanged():
    assert cc.out_of_china(2.35, 48.85) and not cc.out_of_china(104.06, 30.66)
    assert cc.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert cc.gcj02_to_wgs84(-122.4, 37.8) == (-122.4, 37.8)
    lon, lat = cc.gcj02_to_wgs84(np.array([2.35, 104.06]), np.array([48.85, 30.66]))
    assert lon[0] == 2.35 and lon[1] != 104.06


def test_datum_dispatch():
    assert cc.to_wgs84(104.0, 30.0, "wgs84") == (104.0, 30.0)
    there = cc.from_wgs84(104.0, 30.0, "bd09")
    assert metres(*cc.to_wgs84(*there, "bd09"), 104.0, 30.0) < 0.01
    with pytest.raises(ValueError, match="unknown datum"):
        cc.to_wgs84(104.0, 30.0, "cgcs2000")
