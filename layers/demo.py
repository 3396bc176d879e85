"""A realistic, deterministic demo district in central Chengdu.

Streets are laid out as Chengdu's are (ring roads around Tianfu Square, radial
avenues, a grid of side streets); facilities stand along them, a few metres off
the centre line, with Chinese names and a spread of status, zone and approval.
The same seed always gives the same features (uuids excepted: they are made
fresh, as for any new feature).

The district also has its reference polygons: management zones (严管区
inside the first ring road, 管控区 to the second, 规范区 beyond, cut by
district) and a grid of 400 m unit grid cells with 15-digit codes; each
facility's zone and grid cell are those it lies in, and its component code
is numbered in the district it lies in (成华区 510108, 锦江区 510104 ...:
:func:`demo_areas`); :data:`DEMO_DISTRICT` (锦江区) is the district of the
demo master and of anything outside the five districts.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

if TYPE_CHECKING:
    from layers.workspace.store import Workspace

__all__ = ["DEMO_COUNTS", "DEMO_DISTRICT", "CENTRE_LONLAT", "demo_features", "fill_demo"]

#: Tianfu Square, the centre of Chengdu's ring roads.
CENTRE_LONLAT = (104.0657, 30.6574)
DEMO_COUNTS = {"toilets": 1900, "signboards": 20000, "kiosks": 600}
#: The demo master's own district code (锦江区, GB/T 2260): the code of a position outside the demo's districts.
DEMO_DISTRICT = "510104"
#: Administrative codes of the demo's districts (GB/T 2260), for the unit grid cells' codes.
_DISTRICT_CODES = {"锦江区": "510104", "青羊区": "510105", "金牛区": "510106", "武侯区": "510107", "成华区": "510108"}
#: The zones' outer edges (radius in metres; ellipses flattened by 0.92 north-south, as the ring roads): the
#: first and second ring roads, then the edge of the demo district beyond the third ring.
_RINGS = ((2300, "严管区"), (4600, "管控区"), (9500, "规范区"))
_CELL = 400.0
_GRID_HALF = 8800.0

# District sectors around the centre (angle in degrees from east, counter-clockwise).
_DISTRICTS = [
    ((-70, 10), "锦江区", ["春熙路街道", "书院街街道", "合江亭街道", "牛市口街道", "沙河街道"]),
    ((10, 60), "成华区", ["猛追湾街道", "建设路街道", "府青路街道", "双桥子街道", "跳蹬河街道"]),
    ((60, 135), "金牛区", ["西安路街道", "驷马桥街道", "荷花池街道", "营门口街道", "抚琴街道"]),
    ((135, 215), "青羊区", ["少城街道", "草市街街道", "西御河街道", "府南街道", "光华街道"]),
    ((215, 290), "武侯区", ["浆洗街街道", "望江路街道", "玉林街道", "跳伞塔街道", "火车南站街道"]),
]
_COMMUNITIES = [
    "东门", "西门", "南门", "北门", "锦官", "文庙", "银杏", "玉林", "桂花", "芙蓉", "青龙",
    "白果林", "金沙", "红星", "和平", "新华", "莲花", "望江", "双林", "水井坊",
]
_RADIALS = [
    "人民南路", "人民北路", "蜀都大道", "东大街", "天府大道", "科华北路", "武侯祠大街", "青华路",
    "府青路", "建设路", "营门口路", "光华大道", "双楠路", "一环路南三段", "新华大道", "沙湾路",
]
_SIDE_STREETS = [
    "春熙路", "红星路", "总府路", "太升路", "骡马市街", "八宝街", "草市街", "文殊院街", "北大街",
    "西大街", "南大街", "金河路", "祠堂街", "长顺街", "同仁路", "猛追湾街", "望江路", "川大路",
    "玉林路", "芳草街", "桐梓林路", "锦华路", "东风路", "盐市口街", "琴台路", "宽巷子", "窄巷子",
    "抚琴路", "双林路", "龙腾路", "高升桥路", "磨子桥街", "致民路", "九眼桥街", "书院街", "布后街",
    "暑袜街", "染房街", "青石桥街", "督院街", "红照壁街", "小天竺街", "棕北路", "肖家河街",
    "二环路东二段", "二环路西一段", "三环路北四段", "驷马桥路", "荷花池街", "西安中路",
]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
_SHOP_KINDS = [
    "面馆", "火锅", "串串香", "冒菜", "茶馆", "药房", "超市", "烧烤", "甜品", "书店", "眼镜店", "花店",
    "理发店", "干洗店", "五金店", "手机店", "便利店", "川菜馆", "兔头", "钵钵鸡", "豆花饭", "水果店",
    "服装店", "鞋店", "奶茶", "咖啡", "银行", "诊所", "宠物店", "文具店",
]
_BRANDS = ["蜀", "锦", "蓉", "天府", "宽窄", "老成都", "川西", "芙蓉", "巴适", "安逸", "熊猫", "金沙"]
_GOODS = ["报刊杂志", "饮料零食", "公交卡充值", "雨具", "手机充电", "旅游纪念品", "便民维修", "地图问路"]
_UNITS = ["区环境卫生管理所", "街道办事处", "区城市管理局", "物业服务中心", "市公厕管理中心"]


def _streets(rng: random.Random, centre: tuple[float, float]) -> list[tuple[str, LineString]]:
    """Street centre lines in metres: three rings, radials and a grid of side streets."""
    cx, cy = centre
    streets: list[tuple[str, LineString]] = []
    for radius, name in ((2300, "一环路"), (4600, "二环路"), (7800, "三环路")):
        angles = np.linspace(0, 2 * math.pi, 121)
        ring = LineString(np.column_stack([cx + radius * np.cos(angles), cy + radius * 0.92 * np.sin(angles)]))
        streets.append((name, ring))
    for i, name in enumerate(_RADIALS):
        angle = 2 * math.pi * i / len(_RADIALS) + rng.uniform(-0.08, 0.08)
        points = [(cx + r * math.cos(angle) + rng.uniform(-60, 60), cy + r * math.sin(angle) + rng.uniform(-60, 60))
                  for r in np.linspace(300, 8500, 12)]
        streets.append((name, LineString(points)))
    for i, name in enumerate(_SIDE_STREETS):
        horizontal = i % 2 == 0
        offset = rng.uniform(-6000, 6000)
        start, length = rng.uniform(-6500, 1000), rng.uniform(1500, 5500)
        line = [(start, offset), (start + length, offset + rng.uniform(-250, 250))]
        if not horizontal:
            line = [(y, x) for x, y in line]
        streets.append((name, LineString([(cx + x, cy + y) for x, y in line])))
    return streets


def _place(
    rng: random.Random, streets: Sequence[tuple[str, LineString]], weights: Sequence[float]
) -> tuple[str, Point]:
    name, line = streets[rng.choices(range(len(streets)), weights)[0]]
    along = rng.uniform(0, line.length)
    p = line.interpolate(along)
    q = line.interpolate(min(along + 1.0, line.length))
    dx, dy = q.x - p.x, q.y - p.y
    norm = math.hypot(dx, dy) or 1.0
    side = rng.choice((-1, 1)) * rng.uniform(8, 25)
    return name, Point(p.x - dy / norm * side, p.y + dx / norm * side)


def _where(rng: random.Random, point: Point, centre: tuple[float, float]) -> dict[str, str]:
    dx, dy = point.x - centre[0], point.y - centre[1]
    angle = math.degrees(math.atan2(dy, dx))
    district, streets = _DISTRICTS[0][1], _DISTRICTS[0][2]
    for (low, high), name, subdistricts in _DISTRICTS:
        if low <= angle < high or low <= angle + 360 < high:
            district, streets = name, subdistricts
    distance = math.hypot(dx, dy)
    zone = "严管区" if distance < 2300 else "管控区" if distance < 4600 else "规范区"
    return {
        "district": district,
        "street": streets[int(distance // 1700) % len(streets)],
        "community": rng.choice(_COMMUNITIES) + "社区",
        "zone": zone,
    }


def _date(rng: random.Random, start: dt.date, days: int) -> str:
    return (start + dt.timedelta(days=rng.randrange(days))).isoformat()


def _ellipse(centre: tuple[float, float], radius: float) -> Polygon:
    angles = np.linspace(0, 2 * math.pi, 121)[:-1]
    return Polygon(np.column_stack([centre[0] + radius * np.cos(angles), centre[1] + radius * 0.92 * np.sin(angles)]))


def _sector(centre: tuple[float, float], low: float, high: float) -> Polygon:
    """A wedge from the centre between two angles (degrees), reaching past the third ring."""
    angles = np.radians(np.linspace(low, high, 33))
    far = 20_000.0
    ring = [centre, *zip(centre[0] + far * np.cos(angles), centre[1] + far * np.sin(angles), strict=True)]
    return Polygon(ring)


def _district_at(centre: tuple[float, float], x: float, y: float) -> tuple[str, list[str]]:
    angle = math.degrees(math.atan2(y - centre[1], x - centre[0]))
    for (low, high), name, subdistricts in _DISTRICTS:
        if low <= angle < high or low <= angle + 360 < high:
            return name, subdistricts
    return _DISTRICTS[0][1], _DISTRICTS[0][2]


def _reference_polygons(centre: tuple[float, float]) -> dict[str, list[tuple[dict[str, Any], MultiPolygon]]]:
    """Management zones (rings cut by district) and 400 m unit grid cells around the centre."""
    zones: list[tuple[dict[str, Any], MultiPolygon]] = []
    inner = None
    for number, (radius, zone) in enumerate(_RINGS, start=1):
        ring = _ellipse(centre, radius)
        band = ring if inner is None else ring.difference(inner)
        for (low, high), district, _ in _DISTRICTS:
            piece = band.intersection(_sector(centre, low, high))
            parts = [g for g in getattr(piece, "geoms", [piece]) if g.geom_type == "Polygon" and g.area > 1]
            if parts:
                zones.append(({"zone": zone, "name": f"{district}{zone}",
                               "code": f"{_DISTRICT_CODES[district]}-{number}"}, MultiPolygon(parts)))
        inner = ring
    steps = np.arange(-_GRID_HALF, _GRID_HALF, _CELL)
    dx, dy = (a.ravel() for a in np.meshgrid(steps, steps[::-1]))  # north to south, west to east: like a page
    x, y = centre[0] + dx, centre[1] + dy
    boxes = shapely.multipolygons(shapely.box(x, y, x + _CELL, y + _CELL), indices=np.arange(len(x)))
    distances = np.hypot(dx + _CELL / 2, dy + _CELL / 2)
    communities = ((dx + _GRID_HALF) // 1600 * 11 + (dy + _GRID_HALF) // 1600 + 1).astype(int)
    cells: list[tuple[dict[str, Any], MultiPolygon]] = []
    serials: dict[tuple[str, int, int], int] = {}
    for i in range(len(x)):
        district, subdistricts = _district_at(centre, x[i] + _CELL / 2, y[i] + _CELL / 2)
        street = int(distances[i] // 1700) % len(subdistricts)
        community = int(communities[i])
        key = (district, street, community)
        serials[key] = serials.get(key, 0) + 1
        code = f"{_DISTRICT_CODES[district]}{street + 1:03d}{community:03d}{serials[key]:03d}"
        cells.append(({"code": code, "district": district, "street": subdistricts[street],
                       "community": f"{_COMMUNITIES[community % len(_COMMUNITIES)]}社区",
                       "area_m2": _CELL * _CELL}, boxes[i]))
    return {"zones": zones, "grid_cells": cells}


def _located(features: list[tuple[dict[str, Any], Point]],
             polygons: list[tuple[dict[str, Any], MultiPolygon]], field: str) -> list[Any]:
    """Per point the *field* of the first polygon it meets (as ``layers.workspace.located`` decides)."""
    if not features:
        return []
    tree = shapely.STRtree([g for _, g in polygons])
    hits = tree.query([p for _, p in features], predicate="intersects")
    best: dict[int, int] = {}
    for point, polygon in zip(hits[0].tolist(), hits[1].tolist(), strict=True):
        best[point] = min(polygon, best.get(point, polygon))
    return [polygons[best[i]][0][field] if i in best else None for i in range(len(features))]


_DEPARTMENTS = {"toilets": "环境卫生管理处", "signboards": "市容景观处", "kiosks": "市容秩序处"}
_MAINTAINERS = ["环卫作业公司", "市政养护中心", "街道办事处", "物业服务中心"]


def _standard_attributes(layer: str, features: list[tuple[dict[str, Any], Point]],
                         polygons: Mapping[str, list[tuple[dict[str, Any], MultiPolygon]]]) -> None:
    """The component standard's attributes of the demo's facilities, in place (deterministic, no randomness)."""
    zones = _located(features, polygons["zones"], "zone")
    cells = _located(features, polygons["grid_cells"], "code")
    for i, ((attributes, _), zone, cell) in enumerate(zip(features, zones, cells, strict=True)):
        district = attributes.get("district") or "锦江区"
        attributes.update({
            "zone": zone, "grid_cell": cell,
            "department": f"{district}城市管理局{_DEPARTMENTS[layer]}",
            "owner_unit": attributes.get("managing_unit") or attributes.get("operator")
            or attributes.get("business_name"),
            "maintainer": f"{district}{_MAINTAINERS[i % len(_MAINTAINERS)]}",
            "initial_date": (dt.date(2012, 1, 1) + dt.timedelta(days=(i * 37) % 4700)).isoformat(),
            "data_source": "2025年城市部件普查",
        })
        if layer == "signboards" and zone == "严管区" and attributes["kind"] == "户外广告" \
                and not attributes.get("permit_no"):
            # In the strict zone an outdoor advertisement stands only with its permit (signboards.toml).
            attributes.update(approval="已审批", permit_no=f"成城广审〔2025〕严{i + 1:05d}号",
                              permit_expiry=(dt.date(2026, 1, 1) + dt.timedelta(days=i % 1100)).isoformat())


def demo_features(
    crs: str = "EPSG:4544", seed: int = 2026, counts: Mapping[str, int] | None = None
) -> dict[str, list[tuple[dict[str, Any], Any]]]:
    """The demo features, layer by layer, and the reference polygons (``zones``, ``grid_cells``).

    Returns
    -------
    dict
        Layer name -> list of (attributes, shapely geometry) in ``crs``.
    """
    counts = counts or DEMO_COUNTS
    rng = random.Random(seed)
    to_crs = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    centre = to_crs.transform(*CENTRE_LONLAT)
    streets = _streets(rng, centre)
    weights = [3.0 if i < 3 else 2.0 if i < 3 + len(_RADIALS) else 1.0 for i in range(len(streets))]
    inspected_from = dt.date(2025, 6, 1)
    layers: dict[str, list[tuple[dict[str, Any], Point]]] = {"toilets": [], "signboards": [], "kiosks": []}
    polygons = _reference_polygons(centre)

    for i in range(counts.get("toilets", 0)):
        street, point = _place(rng, streets, weights)
        status = rng.choices(["在用", "停用", "在建", "拆除"], [88, 6, 4, 2])[0]
        grade = rng.choices(["一类", "二类", "三类"], [25, 60, 15])[0]
        layers["toilets"].append(({
            "name": f"{street}公厕{'' if i % 3 else '（' + str(i % 7 + 1) + '号）'}",
            "structure": rng.choices(["独立式", "附建式", "移动式"], [60, 33, 7])[0],
            "grade": grade,
            "open_24h": rng.random() < 0.55,
            "accessible": rng.random() < (0.9 if grade == "一类" else 0.5),
            "third_restroom": rng.random() < (0.7 if grade == "一类" else 0.15),
            "baby_care": rng.random() < (0.6 if grade == "一类" else 0.1),
            "seats_male": rng.randint(2, 12),
            "seats_female": rng.randint(3, 18),
            "opening_hours": "00:00-24:00" if rng.random() < 0.55 else "06:00-23:00",
            "managing_unit": rng.choice(_UNITS),
            **_where(rng, point, centre),
            "status": status,
            "published_on_map": status == "在用" and rng.random() < 0.9,
            "last_inspected": _date(rng, inspected_from, 540),
        }, point))

    for i in range(counts.get("signboards", 0)):
        street, point = _place(rng, streets, weights)
        kind = rng.choices(["户外广告", "店招牌匾", "指示牌"], [15, 78, 7])[0]
        width = round(rng.uniform(1.0, 12.0 if kind == "户外广告" else 6.0), 1)
        height = round(rng.uniform(0.5, 6.0 if kind == "户外广告" else 1.5), 1)
        approval = rng.choices(["已审批", "未审批", "违规"], [70, 22, 8])[0]
        business = (
            f"{rng.choice(_SURNAMES)}记{rng.choice(_SHOP_KINDS)}" if rng.random() < 0.6
            else f"{rng.choice(_BRANDS)}{rng.choice(_SHOP_KINDS)}"
        )
        where = _where(rng, point, centre)
        layers["signboards"].append(({
            "business_name": business if kind != "指示牌" else f"{street}指示牌",
            "kind": kind,
            "carrier": rng.choices(["墙面", "屋顶", "立柱", "落地", "悬挑"], [62, 6, 12, 10, 10])[0],
            "lighting": rng.choices(["无", "LED", "霓虹", "灯箱"], [35, 40, 5, 20])[0],
            "width_m": width,
            "height_m": height,
            "permit_no": f"成城广审〔2025〕{i + 1:05d}号" if approval == "已审批" else None,
            "permit_expiry": _date(rng, dt.date(2026, 1, 1), 1100) if approval == "已审批" else None,
            "approval": approval,
            "hazard": rng.choices(["无", "一般", "严重"], [90, 8, 2])[0],
            "supervision_level": (
                "市" if where["zone"] == "严管区" and kind == "户外广告" else rng.choice(["区", "街道"])
            ),
            "owner_contact": f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}",
            **where,
            "status": rng.choices(["在用", "停用", "在建", "拆除"], [92, 4, 2, 2])[0],
            "last_inspected": _date(rng, inspected_from, 540),
        }, point))

    for i in range(counts.get("kiosks", 0)):
        street, point = _place(rng, streets, weights)
        kind = rng.choices(["报刊亭", "便民服务点", "售货亭", "疏导服务点", "社区城管工作站"], [30, 30, 20, 12, 8])[0]
        layers["kiosks"].append(({
            "name": f"{street}{kind}{i % 9 + 1}号",
            "kind": kind,
            "operator": f"{rng.choice(_SURNAMES)}{rng.choice('建华明丽红军芳伟强敏静')}",
            "license_no": f"成便民〔2025〕{i + 1:04d}号",
            "license_expiry": _date(rng, dt.date(2026, 1, 1), 1100),
            "goods": "、".join(rng.sample(_GOODS, 3)),
            "area_m2": round(rng.uniform(3.0, 15.0), 1),
            "opening_hours": rng.choice(["07:00-22:00", "08:00-20:00", "06:30-23:00"]),
            **_where(rng, point, centre),
            "status": rng.choices(["在用", "停用", "在建", "拆除"], [85, 8, 5, 2])[0],
            "last_inspected": _date(rng, inspected_from, 540),
        }, point))
    for layer, features in layers.items():
        _standard_attributes(layer, features, polygons)
    return {**layers, **polygons}


def _offset_progress(progress: Callable[[int, int], object], offset: int, total: int) -> Callable[[int], None]:
    """``progress(done, total)`` for a layer whose features start after *offset* others."""
    def step(n: int) -> None:
        progress(offset + n, total)
    return step


def fill_demo(
    workspace: Workspace,
    *,
    seed: int = 2026,
    counts: Mapping[str, int] | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> dict[str, int]:
    """Load the demo features into an empty workspace as its base state (not tracked as changes).

    The workspace numbers its components itself (standalone, by the demo's
    districts, else :data:`DEMO_DISTRICT`), starting with the demo's features.
    ``progress(done, total)`` is called as features are written.
    """
    from layers.workspace.districts import districts_of_areas
    from layers.workspace.numbering import STANDALONE, give_codes, numbering, start_standalone

    layers = {name: features for name, features in demo_features(workspace.crs, seed, counts).items()
              if name in workspace.definitions}
    total = sum(len(features) for features in layers.values())
    done = 0
    with workspace.untracked():
        state = numbering(workspace)
        if any(workspace.layer(name).component for name in layers) and (not state.active
                                                                         or state.kind == STANDALONE):
            # numbered in the district each feature lies in (the demo's areas), else in DEMO_DISTRICT
            start_standalone(workspace, state.district or DEMO_DISTRICT,
                             state.serial_range or (1, 999_999), districts_of_areas(demo_areas(workspace.crs)))
        for layer, features in layers.items():
            give_codes(workspace, workspace.layer(layer), [attributes for attributes, _ in features],
                       [geometry for _, geometry in features])
            step = _offset_progress(progress, done, total) if progress else None
            workspace.insert_many(layer, features, progress=step)
            done += len(features)
    return {layer: len(features) for layer, features in layers.items()}


#: The demo's city and its districts' administrative codes (GB/T 2260).
DEMO_CITY = ("510100", "成都市")
DEMO_DISTRICT_CODES = {"锦江区": "510104", "青羊区": "510105", "金牛区": "510106", "武侯区": "510107",
                       "成华区": "510108"}


def demo_areas(crs: str = "EPSG:4544", radius: float = 12_000) -> list[dict[str, Any]]:
    """The administrative areas of the demo (made up to match its features' district and street fields).

    The city, its five central districts as the demo's sectors around the
    centre, and each district's streets (街道) as the rings of 1,700 m the
    demo assigns them by distance.  Each area: ``code``, ``level`` (city,
    district, street), ``name``, ``parent`` and ``geom`` (a shapely
    MultiPolygon in *crs*).
    """
    from shapely.geometry import MultiPolygon, Polygon
    from shapely.ops import unary_union

    to_crs = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    cx, cy = to_crs.transform(*CENTRE_LONLAT)

    def sector(low: float, high: float, inner: float, outer: float) -> Polygon:
        angles = np.radians(np.linspace(low, high, max(4, int(high - low))))
        outside = [(cx + outer * math.cos(a), cy + outer * math.sin(a)) for a in angles]
        inside = [(cx + inner * math.cos(a), cy + inner * math.sin(a)) for a in angles[::-1]]
        return Polygon(outside + (inside if inner > 0 else [(cx, cy)]))

    def multi(shape: Any) -> MultiPolygon:
        return shape if isinstance(shape, MultiPolygon) else MultiPolygon([shape])

    city_code, city_name = DEMO_CITY
    areas: list[dict[str, Any]] = []
    districts = []
    for (low, high), name, streets in _DISTRICTS:
        code = DEMO_DISTRICT_CODES[name]
        shape = sector(low, high, 0, radius)
        districts.append(shape)
        areas.append({"code": code, "level": "district", "name": name, "parent": city_code, "geom": multi(shape)})
        bands = int(radius // 1700) + 1
        for j, street in enumerate(streets):
            rings = [sector(low, high, k * 1700, min((k + 1) * 1700, radius)) for k in range(bands)
                     if k % len(streets) == j and k * 1700 < radius]
            areas.append({"code": f"{code}{j + 1:03d}", "level": "street", "name": street, "parent": code,
                          "geom": multi(unary_union(rings))})
    areas.insert(0, {"code": city_code, "level": "city", "name": city_name, "parent": None,
                     "geom": multi(unary_union(districts))})
    return areas
