"""HaiquSampler: a drop-in ``BaseSamplerV2`` that runs on the Haiqu service."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.primitives import (
    BaseSamplerV2,
    BitArray,
    DataBin,
    SamplerPubLike,
    SamplerPubResult,
)
from qiskit.primitives.containers.bindings_array import BindingsArray
from qiskit.primitives.containers.sampler_pub import SamplerPub

from qiskit_haiqu.api.models import RunJob
from qiskit_haiqu.primitives.base import HaiquPrimitive
from qiskit_haiqu.primitives.job import HaiquJob
from qiskit_haiqu.primitives.options import SamplerOptions
from qiskit_haiqu.primitives.plan import PlannedJob, wire_parameters
from qiskit_haiqu.primitives.user_warnings import warn_user
from qiskit_haiqu.primitives.validation import (
    check_registers,
    parameter_rows,
    warn_if_no_registers,
)
from qiskit_haiqu.translate.bitarrays import distributions_to_bitarrays
from qiskit_haiqu.translate.circuits import register_layout
from qiskit_haiqu.translate.job_context import write_context

__all__ = ["HaiquSampler"]

QUASI_WARNING = (
    "The service returned quasi-probabilities (error-mitigated results are not whole "
    "counts), so the samples were drawn from the nearest probability distribution, "
    "allocating exactly the requested shots. The raw values are kept in "
    "result[i].metadata['quasi_dists']."
)


@dataclass(frozen=True)
class _SamplerPubItem:
    """A validated sampler pub and its parameter rows (none when rebuilt from the service)."""

    pub: SamplerPub
    rows: np.ndarray | None


class HaiquSampler(
    HaiquPrimitive[SamplerOptions, _SamplerPubItem, SamplerPubResult], BaseSamplerV2
):
    """Sampler V2 on the Haiqu service.

    Pubs behave as with Qiskit's own samplers: one :class:`~qiskit.primitives.BitArray` per
    classical register, named after it, shaped like the pub's parameter values, bit 0 of a
    register rightmost. Registers are decoded from their clbits' real positions, so
    registers built from scattered or shared bits come out right.

    One ``run()`` becomes one ``POST /run`` when all pubs share their shots and are all
    parameterised or all not; otherwise one per (shots, parameterised) group, which the wire
    forces (it takes one ``shots`` per job, and parameters for all circuits or none), and
    runs of more than ``options.max_circuits_per_job`` circuits are split into several jobs
    whose results are reassembled in order. The circuits are uploaded once per primitive and
    found again by their fingerprint from any other process.

    Example:
        >>> sampler = HaiquSampler(device_id="aer_simulator", options={"default_shots": 1024})
        >>> counts = sampler.run([bell]).result()[0].data.meas.get_counts()
    """

    _options_class = SamplerOptions
    _kind = "sampler"
    _label = "Sampler"

    def run(
        self, pubs: Iterable[SamplerPubLike], *v1_args: Any, shots: int | None = None
    ) -> HaiquJob:
        """Run the pubs; returns at once with a job (nothing waits for the results).

        Args:
            pubs: ``circuit``, ``(circuit, values)`` or ``(circuit, values, shots)`` items.
            shots: Shots for pubs that set none; ``options.default_shots`` when ``None``.
            v1_args: Refused: the V1 call style (``run(circuits, values)``) gets a
                ``TypeError`` showing the pub form.

        Raises:
            ValueError, TypeError: a pub is invalid (as Qiskit's samplers raise them); no
                request has been made.
        """
        return self._run(pubs, v1_args, shots)

    @property
    def default_shots(self) -> int:
        """Shots of pubs that set none (``options.default_shots``), Qiskit's name."""
        return self._options.default_shots

    # -- the sampler's part of the shared algorithm --------------------------------------

    def _default(self, options: SamplerOptions) -> int:
        return options.default_shots

    def _coerce(self, pub: SamplerPubLike, default: int) -> SamplerPub:
        return SamplerPub.coerce(pub, default)

    def _prepared(self, pubs: list[SamplerPub], options: SamplerOptions) -> list[_SamplerPubItem]:
        items = []
        for index, pub in enumerate(pubs):
            check_registers(pub.circuit, index)
            items.append(
                _SamplerPubItem(pub, parameter_rows(pub.circuit, pub.parameter_values, index))
            )
        warn_if_no_registers(pub.circuit for pub in pubs)
        return items

    def _group_key(self, pub: _SamplerPubItem) -> Hashable | None:
        """Pubs without samples to take (no register, or an empty sweep) stay local."""
        circuit = pub.pub.circuit
        if pub.pub.size == 0 or not circuit.cregs:
            return None
        return (pub.pub.shots, circuit.num_parameters > 0)

    def _entries(self, pub: _SamplerPubItem) -> int:
        return 1

    def _planned_job(self, pubs: Sequence[_SamplerPubItem], members: list[int]) -> PlannedJob:
        first = pubs[0].pub
        rows = [pub.rows for pub in pubs if pub.rows is not None]
        return PlannedJob(
            members=members,
            entries=[1] * len(pubs),
            shots=int(first.shots or 0),
            circuits=[pub.pub.circuit for pub in pubs],
            parameters=wire_parameters(rows) if first.circuit.num_parameters else None,
            context=write_context(
                {"kind": "sampler", "shapes": [list(pub.pub.shape) for pub in pubs]}
            ),
        )

    def _pub_result(
        self, pub: _SamplerPubItem, values: Sequence[Any], job: RunJob, entry: int
    ) -> SamplerPubResult:
        dists = values[0] if pub.pub.circuit.num_parameters else [values[0]]
        return _pub_result(pub.pub, dists, job, entry)

    def _dry_run_result(self, pub: _SamplerPubItem, job: RunJob) -> SamplerPubResult:
        return _empty_result(pub.pub, job, dry_run=True)

    def _unsent_result(self, pub: _SamplerPubItem) -> SamplerPubResult:
        return _empty_result(pub.pub, None, dry_run=False)

    def _rebuild(
        self, job: RunJob, context: dict[str, Any], circuit: Callable[[str], QuantumCircuit]
    ) -> list[_SamplerPubItem]:
        return [
            _SamplerPubItem(
                SamplerPub(
                    circuit(circuit_id),
                    BindingsArray(shape=tuple(shape)),
                    shots=job.shots,
                    validate=False,
                ),
                None,
            )
            for circuit_id, shape in zip(job.circuit_ids, context["shapes"], strict=True)
        ]

    def _check_decoded(self, results: Sequence[SamplerPubResult]) -> None:
        if any("quasi_dists" in result.metadata for result in results):
            warn_user(QUASI_WARNING)


def _pub_result(
    pub: SamplerPub, dists: list[dict[str, float]], job: RunJob, position: int
) -> SamplerPubResult:
    """A sent pub's result: its distributions decoded into one BitArray per register."""
    circuit = pub.circuit
    shots = int(pub.shots or job.shots)
    seed = int.from_bytes(hashlib.sha256(f"{job.id}:{position}".encode()).digest()[:8], "little")
    decoded = distributions_to_bitarrays(
        dists,
        shots=shots,
        num_clbits=circuit.num_clbits,
        layout=register_layout(circuit),
        shape=pub.shape,
        seed=seed,
    )
    metadata: dict[str, Any] = {
        "shots": shots,
        "circuit_metadata": circuit.metadata,
        "haiqu_job_id": job.id,
    }
    if not decoded.exact:
        metadata["quasi_dists"] = decoded.quasi_dists
        metadata["counts_method"] = "nearest_probability_largest_remainder"
    data = DataBin(**decoded.arrays, shape=pub.shape)
    return SamplerPubResult(data, metadata=metadata)


def _empty_result(pub: SamplerPub, job: RunJob | None, *, dry_run: bool) -> SamplerPubResult:
    """A pub result without samples: zero-size pubs, and dry runs (which run nothing)."""
    shots = int(pub.shots or 0)
    arrays = {}
    if not dry_run:
        for creg in pub.circuit.cregs:
            nbytes = (creg.size + 7) // 8
            arrays[creg.name] = BitArray(
                np.zeros((*pub.shape, shots, nbytes), dtype=np.uint8), creg.size
            )
    metadata: dict[str, Any] = {"shots": shots, "circuit_metadata": pub.circuit.metadata}
    if job is not None:
        metadata["haiqu_job_id"] = job.id
    if dry_run:
        metadata["dry_run"] = True
    return SamplerPubResult(DataBin(**arrays, shape=pub.shape), metadata=metadata)
