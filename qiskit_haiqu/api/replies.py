"""Reading job replies as loosely as the official SDK reads them, and never more loosely.

A job is parsed by its ``job_type``: ``Run`` as :class:`RunJob`, ``Hybrid`` (``/flow``) as
:class:`HybridJob`, any other known type as :class:`BaseJob`. An optional field the client does
not need to decode results (a cost, a quality, a date) that does not have the expected shape
is dropped and named, never fatal. A required field, or one the results are decoded from
(``quantum_results``, ``info``, ``circuit_ids`` ...), must be right: a job read wrongly would
give wrong results.

The reply to ``POST /run`` (or ``POST /flow``) is read more loosely still: once it carries a
job id the job exists, so every other field may be odd. Those are dropped and, when required,
filled from the request that was sent; a job whose reply said ``Done`` but whose results could
not be read is marked ``Submitted`` so that its handle reads it again from ``GET /jobs/{id}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar

from pydantic import ValidationError

from qiskit_haiqu.api.bodies import JobBodies
from qiskit_haiqu.api.models import BaseJob, HybridJob, JobStatus, JobType, RunJob

__all__ = [
    "RESULT_FIELDS",
    "decode_job",
    "decode_job_listing",
    "UnreadableReply",
    "describe_errors",
    "hybrid_defaults",
    "job_model",
    "read_job",
    "read_submitted_job",
    "submission_defaults",
]

RESULT_FIELDS = frozenset(
    {
        "quantum_results",
        "info",
        "circuit_ids",
        "input_circuit_ids",
        "shots",
        "parameters",
        "observables",
        "readout_bases",
        "dry_run",
        "run_type",
        "description",
    }
)
"""Fields the primitives decode results from: never silently dropped from a job."""

_RUN_FAMILY: dict[str, type[RunJob]] = {
    JobType.RUN.value: RunJob,
    JobType.HYBRID.value: HybridJob,
}
_KNOWN_TYPES = frozenset(t.value for t in JobType)
JobT = TypeVar("JobT", bound=BaseJob)


_JOB_MODELS: tuple[type[BaseJob], ...] = (BaseJob, *_RUN_FAMILY.values())
_BODIES = JobBodies(name for model in _JOB_MODELS for name in model.model_fields)


def decode_job(content: bytes) -> Any:
    """A job reply's JSON for :func:`read_job` (``None`` when it is not JSON); result rows
    stay JSON text until read (see :mod:`~qiskit_haiqu.api.bodies`)."""
    return _BODIES.job(content)


def decode_job_listing(content: bytes) -> Any:
    """A job listing's JSON (``None`` when it is not JSON), each job as :func:`decode_job`."""
    return _BODIES.listing(content)


class UnreadableReply(ValueError):
    """A reply that is not the job it should be; the message says what is wrong."""


def describe_errors(exc: ValidationError, limit: int = 5) -> str:
    """``loc: msg`` for the first errors of a validation failure (no input values)."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:limit]
    )


def job_model(job_type: Any) -> type[BaseJob] | None:
    """The model of a job type: the run family, :class:`BaseJob`, or ``None`` if unknown."""
    if not isinstance(job_type, str):
        return None
    if job_type in _RUN_FAMILY:
        return _RUN_FAMILY[job_type]
    return BaseJob if job_type in _KNOWN_TYPES else None


def read_job(data: Any, *, partial: bool = False) -> tuple[BaseJob, list[str]]:
    """One job of any type, and what was odd in it (dropped optional fields).

    Args:
        data: The decoded JSON.
        partial: Accept a run job that has only the common fields as a :class:`BaseJob`
            (the cancel and restart replies are that).

    Raises:
        UnreadableReply: not an object, or a required or result field is wrong.
    """
    if not isinstance(data, dict):
        raise UnreadableReply("the body is not a JSON object")
    model = job_model(data.get("job_type")) or BaseJob
    try:
        return _validate_dropping(model, data, _cosmetic(model))
    except UnreadableReply:
        if not partial or model is BaseJob:
            raise
    return _validate_dropping(BaseJob, data, _cosmetic(BaseJob))


def _cosmetic(model: type[BaseJob]) -> Callable[[str], bool]:
    """Whether a field of ``model`` may be dropped: optional, and no result is read from it."""

    def droppable(name: str) -> bool:
        field = model.model_fields.get(name)
        return field is not None and not field.is_required() and name not in RESULT_FIELDS

    return droppable


def submission_defaults(fields: Mapping[str, Any]) -> dict[str, Any]:
    """What a run job's reply should echo of the request ``fields`` (the ``POST /run`` body)."""
    run_type = fields.get("run_type")
    return {
        "user_id": 0,
        "experiment_id": str(fields.get("experiment_id") or ""),
        "status": JobStatus.SUBMITTED.value,
        "job_type": JobType.RUN.value,
        "creation_date": datetime.now(timezone.utc),
        "device_id": str(fields.get("device_id") or ""),
        "circuit_ids": list(fields.get("circuit_ids") or []),
        "shots": int(fields.get("shots") or 1024),
        "options": dict(fields.get("options") or {}),
        "use_mitigation": bool(fields.get("use_mitigation")),
        "dry_run": bool(fields.get("dry_run")),
        "run_type": str(getattr(run_type, "value", run_type) or "Run"),
    }


def hybrid_defaults(body: Mapping[str, Any]) -> dict[str, Any]:
    """What a Hybrid job's reply should echo of the ``POST /flow`` body ``body``.

    The run-job fields a Hybrid job leaves out (``circuit_ids``, ``device_id``, ``options``,
    ``use_mitigation``, ``run_type``) follow from these (see :class:`HybridJob`).
    """
    return {
        "user_id": 0,
        "experiment_id": str(body.get("experiment_id") or ""),
        "status": JobStatus.SUBMITTED.value,
        "job_type": JobType.HYBRID.value,
        "creation_date": datetime.now(timezone.utc),
        "input_circuit_ids": list(body.get("circuit_ids") or []),
        "program": body.get("program"),
        "shots": int(body.get("shots") or 1000),
        "dry_run": bool(body.get("dry_run")),
    }


def read_submitted_job(data: Any, defaults: Mapping[str, Any]) -> tuple[RunJob, list[str]]:
    """The job a ``POST /run`` or ``POST /flow`` reply announces, and what was odd in it.

    Args:
        data: The decoded JSON of the reply (or of the job found in a listing).
        defaults: :func:`submission_defaults` (or :func:`hybrid_defaults`) of the request,
            for required fields the reply lacks or garbles.

    Raises:
        UnreadableReply: the reply carries no job id.
    """
    if not isinstance(data, dict):
        raise UnreadableReply("the body is not a JSON object")
    job_id = data.get("id")
    if not isinstance(job_id, str) or not job_id.strip():
        raise UnreadableReply("the reply carries no job id")
    model = (
        _RUN_FAMILY.get(str(data.get("job_type")))
        or _RUN_FAMILY.get(str(defaults.get("job_type")))
        or RunJob
    )
    job, odd = _validate_dropping(model, data, lambda name: name != "id", defaults)
    unread = [name for name in odd if name.split(" ", 1)[0] in RESULT_FIELDS]
    if unread and job.status == JobStatus.DONE.value:
        job = job.model_copy(update={"status": JobStatus.SUBMITTED.value})
    return job, odd


def _validate_dropping(
    model: type[JobT],
    data: dict[str, Any],
    droppable: Callable[[str], bool],
    refill: Mapping[str, Any] | None = None,
) -> tuple[JobT, list[str]]:
    """Validate ``data``; drop each wrong field ``droppable`` allows, taking ``refill``'s value.

    ``refill`` also stands in for required fields ``data`` lacks.

    Returns:
        The job, and ``"field (problem)"`` for each field dropped or refilled.
    """
    refill = refill or {}
    absent = [
        f"{key} (missing)"
        for key in refill
        if key not in data and key in model.model_fields and model.model_fields[key].is_required()
    ]
    try:
        return model.model_validate({**refill, **data}), absent
    except ValidationError as exc:
        first = exc
    odd: dict[str, str] = {}
    for error in first.errors():
        name = error["loc"][0] if error["loc"] else None
        if not isinstance(name, str) or not droppable(name):
            raise UnreadableReply(describe_errors(first)) from None
        odd.setdefault(name, error["msg"])
    kept = {key: value for key, value in data.items() if key not in odd}
    try:
        job = model.model_validate({**refill, **kept})
    except ValidationError as exc:
        raise UnreadableReply(describe_errors(exc)) from None
    return job, [*absent, *(f"{name} ({problem})" for name, problem in odd.items())]
