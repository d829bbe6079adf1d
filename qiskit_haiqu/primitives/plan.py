"""The plan of one ``run()``: which Haiqu jobs to submit and how each pub's data comes back.

Planning is pure (no request): a primitive turns its validated pubs into a :class:`RunPlan`;
submission (:mod:`~qiskit_haiqu.primitives.submission`) only uploads and posts what the plan
says; decoding (:meth:`HaiquPrimitive._decode
<qiskit_haiqu.primitives.base.HaiquPrimitive._decode>`) reads the final jobs through the
same plan; reattaching to a job rebuilds the plan from what the service stored.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import numpy as np
from qiskit.circuit import QuantumCircuit

__all__ = ["PlannedJob", "RunPlan", "job_members", "wire_parameters"]

PubT = TypeVar("PubT")

RunType = Literal["Run", "StatevectorRun"]


@dataclass(frozen=True)
class PlannedJob:
    """One Haiqu job of a run: its pubs, its circuit entries and the body fields they make.

    ``members`` are indices into :attr:`RunPlan.pubs`; pub ``members[k]`` takes
    ``entries[k]`` consecutive circuit entries of the job, in that order, so its results
    are ``quantum_results[sum(entries[:k]) : sum(entries[:k + 1])]``.
    """

    members: list[int]
    entries: list[int]
    shots: int
    circuits: list[QuantumCircuit]  # one per circuit entry, in circuit_ids order
    parameters: np.ndarray | list[np.ndarray] | None = None
    observables: list[Any] | None = None
    run_type: RunType = "Run"
    context: str | None = None  # the marker that lets another process decode the job

    def slices(self) -> list[tuple[int, slice]]:
        """Each member pub with the slice of the job's results that belongs to it."""
        out = []
        start = 0
        for index, count in zip(self.members, self.entries, strict=True):
            out.append((index, slice(start, start + count)))
            start += count
        return out

    @property
    def total_entries(self) -> int:
        """How many circuit entries (and so results) the job has."""
        return sum(self.entries)


@dataclass(frozen=True)
class RunPlan(Generic[PubT]):
    """Every pub of a run (sent or answered locally) and the jobs that carry the sent ones.

    A pub that is in no job (an empty sweep, a circuit with nothing to measure) is answered
    without the service.
    """

    pubs: list[PubT]
    jobs: list[PlannedJob] = field(default_factory=list)

    def circuits(self) -> list[QuantumCircuit]:
        """Every job's circuit entries, job after job (the order of their ids)."""
        return [circuit for job in self.jobs for circuit in job.circuits]


def job_members(
    keys: Sequence[tuple[int, Hashable]], entries: Sequence[int], limit: int
) -> list[list[int]]:
    """Split the sent pubs into jobs: one per key, none over ``limit`` circuit entries.

    Args:
        keys: ``(pub index, key)`` of each sent pub; pubs with equal keys may share a job
            (the wire takes one ``shots`` and one kind of run per job, and parameters for
            all of its circuits or for none).
        entries: How many circuit entries each pub (by index) takes.
        limit: The most circuit entries of one job; a pub is never split, so a pub needing
            more travels alone.

    Returns:
        The pub indices of each job, groups in order of first appearance.
    """
    groups: dict[Hashable, list[int]] = {}
    for index, key in keys:
        groups.setdefault(key, []).append(index)
    chunks: list[list[int]] = []
    for group in groups.values():
        current: list[int] = []
        used = 0
        for index in group:
            if current and used + entries[index] > limit:
                chunks.append(current)
                current, used = [], 0
            current.append(index)
            used += entries[index]
        if current:
            chunks.append(current)
    return chunks


def wire_parameters(rows: Sequence[np.ndarray]) -> np.ndarray | list[np.ndarray]:
    """The wire's ``parameters``: 2-D for one circuit entry, 3-D (a list) for several."""
    return rows[0] if len(rows) == 1 else list(rows)
