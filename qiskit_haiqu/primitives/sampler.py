"""HaiquSampler: a drop-in ``BaseSamplerV2`` that runs on the Haiqu service."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.primitives import (
    BaseSamplerV2,
    BitArray,
    DataBin,
    PrimitiveResult,
    SamplerPubLike,
    SamplerPubResult,
)
from qiskit.primitives.containers.bindings_array import BindingsArray
from qiskit.primitives.containers.sampler_pub import SamplerPub

from qiskit_haiqu.api.client import HaiquClient
from qiskit_haiqu.api.models import RunJob
from qiskit_haiqu.primitives.base import HaiquPrimitive, WireGroup
from qiskit_haiqu.primitives.job import HaiquJob
from qiskit_haiqu.primitives.options import SamplerOptions
from qiskit_haiqu.primitives.runner import (
    group_by,
    job_results,
    result_metadata,
    split_groups,
    stored_circuit,
    wire_parameters,
)
from qiskit_haiqu.primitives.validation import (
    check_registers,
    coerce_pubs,
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


class HaiquSampler(HaiquPrimitive[SamplerOptions], BaseSamplerV2):
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
        options = self._options.snapshot()
        if shots is None:
            shots = options.default_shots
        coerced = coerce_pubs(pubs, lambda pub: SamplerPub.coerce(pub, shots), "Sampler", v1_args)
        rows = []
        for index, pub in enumerate(coerced):
            check_registers(pub.circuit, index)
            rows.append(parameter_rows(pub.circuit, pub.parameter_values, index))
        warn_if_no_registers(pub.circuit for pub in coerced)

        # Pubs without samples to take (no register, or an empty sweep) are answered locally.
        sent = [i for i, pub in enumerate(coerced) if pub.size > 0 and pub.circuit.cregs]
        keys = [(coerced[i].shots, coerced[i].circuit.num_parameters > 0) for i in sent]
        grouped = split_groups(
            [[sent[k] for k in members] for members in group_by(keys).values()],
            [1] * len(coerced),
            options.max_circuits_per_job,
        )
        groups = []
        for members in grouped:
            pub0 = coerced[members[0]]
            parameters = (
                wire_parameters([rows[i] for i in members]) if pub0.circuit.num_parameters else None
            )
            groups.append(
                WireGroup(
                    int(pub0.shots or shots),
                    [coerced[i].circuit for i in members],
                    {"parameters": parameters, "observables": None},
                    write_context(
                        {"kind": "sampler", "shapes": [list(coerced[i].shape) for i in members]}
                    ),
                )
            )

        def decode(jobs: Sequence[RunJob]) -> PrimitiveResult[SamplerPubResult]:
            return _decode(coerced, grouped, jobs, self.device_id)

        if not groups:
            return HaiquJob(
                self._runner.client,
                [],
                decode,
                device_id=self.device_id,
                result=decode([]),
            )
        return self._submit(options, [pub.circuit for pub in coerced], groups, decode)

    @property
    def default_shots(self) -> int:
        """Shots of pubs that set none (``options.default_shots``), Qiskit's name."""
        return self._options.default_shots

    def job(self, job_id: str) -> HaiquJob:
        """Reattach to a job submitted earlier, from this or any other process.

        ``result()`` then gives what the submitting process got: register names, pub shapes,
        bit widths and metadata. Pubs that were answered locally (register-less circuits,
        empty sweeps) were never sent and are not part of it.

        Args:
            job_id: ``job.job_id()`` of the original job (Haiqu ids joined by ``";"``).

        Raises:
            HaiquInputError: the job was not submitted by a HaiquSampler.
        """
        return self._reattached(job_id, "sampler", _reattach, _decode)


def _reattach(
    client: HaiquClient, found: Sequence[tuple[RunJob, dict[str, Any]]]
) -> tuple[list[SamplerPub], list[list[int]]]:
    """The pubs the jobs were submitted with, grouped by job."""
    pubs: list[SamplerPub] = []
    grouped: list[list[int]] = []
    circuits: dict[str, QuantumCircuit] = {}
    for job, context in found:
        members = []
        for circuit_id, shape in zip(job.circuit_ids, context["shapes"], strict=True):
            circuit = stored_circuit(client, circuit_id, circuits)
            members.append(len(pubs))
            pubs.append(
                SamplerPub(
                    circuit, BindingsArray(shape=tuple(shape)), shots=job.shots, validate=False
                )
            )
        grouped.append(members)
    return pubs, grouped


def _decode(
    pubs: Sequence[SamplerPub],
    grouped: Sequence[Sequence[int]],
    jobs: Sequence[RunJob],
    device_id: str,
) -> PrimitiveResult[SamplerPubResult]:
    """Turn the final Haiqu jobs into the sampler's result, pubs in input order."""
    results: list[SamplerPubResult | None] = [None] * len(pubs)
    warned = False
    for members, job in zip(grouped, jobs, strict=True):
        quantum_results = job_results(job, len(members))
        for position, index in enumerate(members):
            pub = pubs[index]
            if quantum_results is None:
                results[index] = _empty_result(pub, job, dry_run=True)
                continue
            entry = quantum_results[position]
            dists = entry if pub.circuit.num_parameters else [entry]
            result, exact = _pub_result(pub, dists, job, position)
            if not exact and not warned:
                warnings.warn(QUASI_WARNING, UserWarning, stacklevel=4)
                warned = True
            results[index] = result
    final = [
        result if result is not None else _empty_result(pubs[i], None, dry_run=False)
        for i, result in enumerate(results)
    ]
    return PrimitiveResult(final, metadata=result_metadata(jobs, device_id))


def _pub_result(
    pub: SamplerPub, dists: list[dict[str, float]], job: RunJob, position: int
) -> tuple[SamplerPubResult, bool]:
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
    return SamplerPubResult(data, metadata=metadata), decoded.exact


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
