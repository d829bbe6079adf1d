"""Jobs found again by id, whatever primitive made them, and jobs and primitives unpickled.

A pickled :class:`~qiskit_haiqu.HaiquJob` or primitive carries its job id (or device and
options) and the client's settings, never the API key: the process that unpickles it reads
the key from its own ``HAIQU_API_KEY``, as any new client does.
"""

from __future__ import annotations

from typing import Any, TypeVar

from qiskit_haiqu.api.client import HaiquClient
from qiskit_haiqu.api.models import BaseJob, RunJob
from qiskit_haiqu.errors import HaiquInputError
from qiskit_haiqu.primitives.estimator import HaiquEstimator
from qiskit_haiqu.primitives.job import HaiquJob
from qiskit_haiqu.primitives.sampler import HaiquSampler
from qiskit_haiqu.translate.job_context import read_context

__all__ = ["job_kind", "reattach", "restore_job", "restore_primitive"]

PrimitiveT = TypeVar("PrimitiveT", HaiquSampler, HaiquEstimator)

PRIMITIVES: dict[str, type[HaiquSampler] | type[HaiquEstimator]] = {
    "sampler": HaiquSampler,
    "estimator": HaiquEstimator,
}


def job_kind(job: RunJob | BaseJob) -> str | None:
    """``"sampler"`` or ``"estimator"``: the primitive that submitted ``job``, if one did."""
    context = read_context(job.description) if isinstance(job, RunJob) else None
    kind = None if context is None else context.get("kind")
    return kind if kind in PRIMITIVES else None


def reattach(client: HaiquClient, job_id: str, first: RunJob | BaseJob | None = None) -> HaiquJob:
    """A handle on ``job_id`` (Haiqu ids joined by ``";"``) through the primitive that made it.

    Args:
        client: The client to poll through.
        job_id: ``job.job_id()`` of the original job.
        first: The first Haiqu job of ``job_id``, when the caller already fetched it.

    Raises:
        HaiquInputError: the job was not submitted by the Haiqu primitives.
    """
    first = first if first is not None else client.get_job(job_id.split(";")[0])
    kind = job_kind(first)
    if kind is None:
        raise HaiquInputError(
            f"Job {first.id} was not submitted by a HaiquSampler or HaiquEstimator (it "
            "carries no record of its pubs), so it cannot be decoded into a primitive "
            f"result. Its raw results are in client.get_job({first.id!r}).quantum_results."
        )
    device_id = getattr(first, "device_id", None) or "unknown"
    return PRIMITIVES[kind](device_id, client=client).job(job_id)


def restore_job(job_id: str, client_settings: dict[str, Any]) -> HaiquJob:
    """Unpickle a job: reattach to ``job_id`` with a client built from ``client_settings``."""
    return reattach(HaiquClient(**client_settings), job_id)


def restore_primitive(
    cls: type[PrimitiveT], device_id: str, options: Any, client_settings: dict[str, Any]
) -> PrimitiveT:
    """Unpickle a primitive: the same device and options, on an equivalent client."""
    return cls(device_id, client=HaiquClient(**client_settings), options=options)
