"""Checked rows kept for the writing pass: read back as kept, or with the new rows in another order
(in memory, or dealt into buckets outside memory), the rows that update a feature first."""

import numpy as np
import pytest
import shapely

from layers.imports import kept as kept_module
from layers.imports.kept import KeptChunk, KeptRows


def chunk(start, count, *, matched_every=0, points=True):
    numbers = list(range(start, start + count))
    fids = [n * 10 if matched_every and n % matched_every == 0 else None for n in numbers] if matched_every else None
    xy = np.column_stack([np.array(numbers, dtype=float), np.array(numbers, dtype=float) / 2])
    return KeptChunk(numbers, {"name": [f"公厕{n}" for n in numbers], "seats_male": [n % 7 for n in numbers],
                               "uuid": [None] * count}, {"name", "seats_male"}, fids,
                     xy if points else None, None if points else shapely.points(xy))


def kept_rows(sizes, **kwargs):
    rows = KeptRows()
    start = 1
    for size in sizes:
        rows.add(chunk(start, size, **kwargs))
        start += size
    return rows


def flat(chunks):
    out = []
    for c in chunks:
        for i, number in enumerate(c.numbers):
            g = c.geometry(i)
            out.append((number, c.values["name"][i], c.values["seats_male"][i],
                        c.fids[i] if c.fids is not None else None, g.x, g.y))
    return out


@pytest.mark.parametrize("held", [10**6, 0, 10])  # as they are, as bytes, as they are until 10 then as bytes
@pytest.mark.parametrize("points", [True, False])
def test_kept_rows_read_back_as_kept(monkeypatch, points, held):
    monkeypatch.setattr(kept_module, "IN_MEMORY_ROWS", held)
    rows = kept_rows([5, 0, 17, 3], points=points)
    assert rows.count == 25
    assert [n for n, *_ in flat(rows)] == list(range(1, 26))
    assert flat(rows) == flat(rows)  # as often as needed
    first = next(iter(rows))
    assert first.attributes(0) == {"name": "公厕1", "seats_male": 1}  # uuid named only when it has one


@pytest.mark.parametrize("held", [10**6, 0, 50])
@pytest.mark.parametrize("points", [True, False])
def test_new_rows_in_another_order_matched_rows_first(monkeypatch, held, points):
    monkeypatch.setattr(kept_module, "BUCKET_ROWS", 7)
    monkeypatch.setattr(kept_module, "IN_MEMORY_ROWS", held)
    rows = kept_rows([40, 23, 0, 51], matched_every=5, points=points)
    every = flat(rows)
    new = [r for r in every if r[3] is None]
    matched = [r for r in every if r[3] is not None]
    order = np.random.default_rng(5).permutation(len(new))
    out = flat(rows.in_order(order))
    assert out[:len(matched)] == matched
    assert out[len(matched):] == [new[i] for i in order]
    assert flat(rows.in_order(None)) == every
    rows.close()
    with pytest.raises(ValueError, match="closed"):
        list(rows)


def test_an_order_of_other_rows_is_refused(monkeypatch):
    monkeypatch.setattr(kept_module, "IN_MEMORY_ROWS", 0)
    rows = kept_rows([10])
    with pytest.raises(ValueError, match="10 new rows kept where the order has 11"):
        list(rows.in_order(np.arange(11)))
