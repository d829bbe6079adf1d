"""Which (observable, parameter row) evaluations to ask the service for, and how to scatter back.

The wire evaluates, per circuit entry of a ``POST /run``, every listed observable against
every listed parameter row. A pub needs only the pairs its broadcast touches: an outer
product ``(n, 1) x (1, m)`` needs all ``n * m``, a zip ``(n,) x (n,)`` only ``n``. The plan
splits the needed pairs into entries that are exact outer products, so the service is asked
for exactly the needed pairs and no more, in as few entries as this grouping finds.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["PlanEntry", "PubPlan", "plan_pub"]


@dataclass(frozen=True)
class PlanEntry:
    """One circuit entry of the request: these observables against these rows."""

    obs_ids: np.ndarray
    row_ids: np.ndarray

    @property
    def evaluations(self) -> int:
        """How many values the service computes for this entry."""
        return len(self.obs_ids) * len(self.row_ids)


@dataclass(frozen=True)
class PubPlan:
    """The entries of one pub and where each cell of its result comes from."""

    shape: tuple[int, ...]
    obs_index: np.ndarray
    entries: list[PlanEntry]
    cell_entry: np.ndarray
    cell_obs: np.ndarray
    cell_row: np.ndarray

    @property
    def evaluations(self) -> int:
        """How many values the service computes for the whole pub."""
        return sum(entry.evaluations for entry in self.entries)

    def gather(self, values: Sequence[np.ndarray]) -> np.ndarray:
        """Scatter per-entry ``(observables, rows)`` arrays into an array of the pub's shape."""
        out = np.empty(self.shape, dtype=np.float64)
        for position, block in enumerate(values):
            mask = self.cell_entry == position
            out[mask] = np.asarray(block)[self.cell_obs[mask], self.cell_row[mask]]
        return out


def plan_pub(obs_index: np.ndarray, row_shape: tuple[int, ...]) -> PubPlan:
    """Plan the evaluations of one pub (plans are shared: never modify one).

    A loop plans the same shapes every iteration, so recent plans are kept.

    Args:
        obs_index: Per observable cell, the id of its distinct observable (shape ``So``).
        row_shape: The parameter values' shape ``Sp``; rows are numbered row-major, and an
            unparameterised pub has ``Sp == ()`` and one row.

    Returns:
        The plan for the broadcast shape of ``So`` and ``Sp`` (Qiskit's rule).
    """
    index = np.asarray(obs_index, dtype=np.intp)
    return _plan(index.tobytes(), index.shape, tuple(int(n) for n in row_shape))


def _read_only(plan: PubPlan) -> PubPlan:
    """``plan`` with every array read-only (plans are shared between runs)."""
    arrays = [plan.obs_index, plan.cell_entry, plan.cell_obs, plan.cell_row]
    for entry in plan.entries:
        arrays += [entry.obs_ids, entry.row_ids]
    for array in arrays:
        array.flags.writeable = False
    return plan


@functools.lru_cache(maxsize=256)
def _plan(obs_bytes: bytes, obs_shape: tuple[int, ...], row_shape: tuple[int, ...]) -> PubPlan:
    """:func:`plan_pub` of an observable index given as its bytes and shape."""
    obs_index = np.frombuffer(obs_bytes, dtype=np.intp).reshape(obs_shape)
    shape = np.broadcast_shapes(obs_index.shape, row_shape)
    rows = np.arange(math.prod(row_shape), dtype=np.intp).reshape(row_shape)
    obs_cells, row_cells = (np.broadcast_to(a, shape).ravel() for a in (obs_index, rows))
    if obs_cells.size == 0:
        empty = np.zeros(shape, dtype=np.intp)
        return _read_only(PubPlan(shape, obs_index, [], empty, empty, empty))
    pairs, inverse = np.unique(
        np.stack([obs_cells, row_cells], axis=1), axis=0, return_inverse=True
    )
    by_row = _group(pairs[:, 1], pairs[:, 0])  # rows sharing the same set of observables
    by_obs = _group(pairs[:, 0], pairs[:, 1])  # observables sharing the same set of rows
    if len(by_obs) < len(by_row):
        entries = [PlanEntry(obs_ids=obs, row_ids=rows) for obs, rows in by_obs]
    else:
        entries = [PlanEntry(obs_ids=obs, row_ids=rows) for rows, obs in by_row]
    lookup: dict[tuple[int, int], tuple[int, int, int]] = {}
    for position, entry in enumerate(entries):
        for i, obs in enumerate(entry.obs_ids.tolist()):
            for j, row in enumerate(entry.row_ids.tolist()):
                lookup[(obs, row)] = (position, i, j)
    placed = np.array([lookup[(int(o), int(r))] for o, r in pairs], dtype=np.intp)
    cells = placed[np.asarray(inverse).ravel()]
    return _read_only(
        PubPlan(
            shape,
            obs_index,
            entries,
            cells[:, 0].reshape(shape),
            cells[:, 1].reshape(shape),
            cells[:, 2].reshape(shape),
        )
    )


def _group(keys: np.ndarray, members: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Group ``keys`` by the set of ``members`` each one has.

    Returns:
        ``(keys with that set, the set)`` pairs, both sorted arrays, in first-seen order.
    """
    sets: dict[int, list[int]] = {}
    for key, member in zip(keys.tolist(), members.tolist(), strict=True):
        sets.setdefault(key, []).append(member)
    groups: dict[tuple[int, ...], list[int]] = {}
    for key, found in sets.items():
        groups.setdefault(tuple(sorted(found)), []).append(key)
    return [
        (np.array(sorted(grouped), dtype=np.intp), np.array(found, dtype=np.intp))
        for found, grouped in groups.items()
    ]
