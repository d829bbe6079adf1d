"""What the service gives back: final jobs' results and metadata, and what a reattached run
is rebuilt from (its jobs with their stored context, and its circuits as stored)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qiskit.circuit import QuantumCircuit

from qiskit_haiqu.api.client import HaiquClient
from qiskit_haiqu.api.models import RunJob
from qiskit_haiqu.errors import HaiquInputError, HaiquInvalidResponseError
from qiskit_haiqu.translate.circuits import decode_circuit, stored_view
from qiskit_haiqu.translate.job_context import read_context

__all__ = ["job_results", "jobs_with_context", "result_metadata", "stored_circuit"]


def jobs_with_context(
    client: HaiquClient, job_id: str, kind: str
) -> list[tuple[RunJob, dict[str, Any]]]:
    """The Haiqu jobs behind ``job_id`` with the decoding context each one carries.

    Raises:
        HaiquInputError: a job carries no context of this ``kind`` ("sampler"/"estimator").
    """
    found = []
    for haiqu_id in job_id.split(";"):
        job = client.get_job(haiqu_id)
        context = read_context(job.description) if isinstance(job, RunJob) else None
        if not isinstance(job, RunJob) or context is None or context.get("kind") != kind:
            raise HaiquInputError(
                f"Job {haiqu_id} carries no {kind} layout (it was not submitted by the Haiqu "
                f"{kind}, or its layout was too large to store). Its raw results are in "
                "client.get_job(job_id).quantum_results."
            )
        found.append((job, context))
    return found


def stored_circuit(
    client: HaiquClient, circuit_id: str, cache: dict[str, QuantumCircuit]
) -> QuantumCircuit:
    """A circuit as the service stored it (for decoding a reattached job), fetched once."""
    if circuit_id in cache:
        return cache[circuit_id]
    stored = client.get_circuit(circuit_id)
    if not stored.qpy:
        raise HaiquInputError(
            f"The service did not return circuit {circuit_id}'s QPY, so the job cannot be "
            "decoded here."
        )
    cache[circuit_id] = stored_view(decode_circuit(stored.qpy))
    return cache[circuit_id]


def job_results(job: RunJob, entries: int) -> list[Any] | None:
    """The job's ``quantum_results`` (one per circuit entry), or ``None`` for a dry run.

    Raises:
        HaiquInvalidResponseError: the job is final but its results are missing or fewer
            than the circuits it ran (never read as empty data).
    """
    if job.dry_run:
        return None
    results = job.quantum_results
    if not isinstance(results, list) or len(results) != entries:
        found = "none" if not results else f"{len(results)}"
        raise HaiquInvalidResponseError(
            f"Job {job.id} is {job.status} but the service returned {found} results for its "
            f"{entries} circuit entries. Its raw answer is client.get_job({job.id!r}); report "
            "this to Haiqu support."
        )
    return results


def result_metadata(jobs: Sequence[RunJob], device_id: str) -> dict[str, Any]:
    """``PrimitiveResult.metadata``: Qiskit's ``version`` plus the Haiqu job facts."""
    metadata: dict[str, Any] = {
        "version": 2,
        "haiqu_job_ids": [job.id for job in jobs],
        "device_id": device_id,
    }
    qpu_cost = {
        job.id: job.info["qpu_cost"] for job in jobs if job.info and job.info.get("qpu_cost")
    }
    if qpu_cost:
        metadata["qpu_cost"] = qpu_cost
    estimated = {
        job.id: job.estimated_qpu_cost.model_dump()
        for job in jobs
        if job.estimated_qpu_cost is not None
    }
    if estimated:
        metadata["estimated_qpu_cost"] = estimated
    if any(job.dry_run for job in jobs):
        metadata["dry_run"] = True
    return metadata
