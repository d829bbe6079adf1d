"""Decoding from rows that are decoded as they are read (the api layer's raw result rows)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import orjson
import pytest

from qiskit_haiqu.api.replies import decode_job
from qiskit_haiqu.errors import HaiquInvalidResponseError
from qiskit_haiqu.translate.bitarrays import distributions_to_bitarrays

LAYOUT = [("low", [0, 1, 2]), ("high", [3, 4, 5, 6, 7, 8, 9, 10, 11])]


class CountingRows(Sequence[dict[str, float]]):
    """Rows made afresh on every read, counting the reads."""

    def __init__(self, rows: list[dict[str, float]]) -> None:
        self._rows = rows
        self.reads = 0

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: Any) -> Any:
        self.reads += 1
        return dict(self._rows[index])

    def __iter__(self) -> Iterator[dict[str, float]]:
        for row in self._rows:
            self.reads += 1
            yield dict(row)


def _rows(count: int, shots: int, width: int = 12) -> list[dict[str, float]]:
    rng = np.random.default_rng(4)
    rows = []
    for _ in range(count):
        outcomes, counts = np.unique(rng.integers(0, 2**width, shots), return_counts=True)
        pairs = zip(outcomes, counts, strict=True)
        rows.append({format(int(k), f"0{width}b"): int(c) / shots for k, c in pairs})
    return rows


def _decode(rows: Sequence[Any]) -> Any:
    return distributions_to_bitarrays(
        rows, shots=500, num_clbits=12, layout=LAYOUT, shape=(len(rows),), seed=2
    )


def test_each_row_is_read_once_and_decodes_as_from_a_list():
    rows = _rows(6, 500)
    counting = CountingRows(rows)
    lazy, eager = _decode(counting), _decode(rows)
    assert counting.reads == len(rows)
    assert lazy.exact
    assert eager.exact
    for name, _ in LAYOUT:
        assert lazy.arrays[name] == eager.arrays[name]


def test_raw_rows_from_a_reply_decode_as_the_plain_rows():
    rows = _rows(5, 500)
    body = orjson.dumps({"id": "jb", "quantum_results": [rows]})
    raw = decode_job(body)["quantum_results"][0]
    assert not isinstance(raw, list)
    lazy, eager = _decode(raw), _decode(rows)
    for name, _ in LAYOUT:
        assert lazy.arrays[name] == eager.arrays[name]


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"000000000001": "half"}, "not numbers"),
        ({"00000000000x": 1.0}, "neither a binary nor a hex"),
        ({"1000000000000": 1.0}, "wider"),
        ({}, "empty distribution"),
    ],
)
def test_a_malformed_raw_row_is_refused_as_a_plain_one(bad, match):
    rows = [*_rows(2, 500), bad]
    body = orjson.dumps({"id": "jb", "quantum_results": [rows]})
    raw = decode_job(body)["quantum_results"][0]
    errors = []
    for given in (rows, raw):
        with pytest.raises(HaiquInvalidResponseError, match=match) as caught:
            _decode(given)
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


def test_inexact_raw_rows_keep_their_quasi_distributions():
    rows = [{"000000000000": 0.7, "000000000001": 0.4, "000000000011": -0.1}]
    body = orjson.dumps({"id": "jb", "quantum_results": [rows]})
    raw = decode_job(body)["quantum_results"][0]
    lazy, eager = _decode(raw), _decode(rows)
    assert not lazy.exact
    assert lazy.quasi_dists == eager.quasi_dists == rows
    for name, _ in LAYOUT:
        assert lazy.arrays[name] == eager.arrays[name]
