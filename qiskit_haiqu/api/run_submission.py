"""Submitting a run exactly once: its token, its body, and the search for a lost reply.

Each submission carries a unique token at the end of its description. When the reply is lost
or unreadable, :class:`~qiskit_haiqu.api.creation.Creator` asks :func:`find_submitted` for the
newest jobs of the experiment (on the run's first circuit) that carry it, before anything is
sent again. The body goes to ``POST /run`` as it is, or as the hybrid program that means the
same to ``POST /flow`` (:func:`~qiskit_haiqu.api.flow.flow_body`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from qiskit_haiqu.api.creation import Creation
from qiskit_haiqu.api.models import JobType, RunJob, RunSubmit
from qiskit_haiqu.api.replies import UnreadableReply, read_submitted_job
from qiskit_haiqu.api.transport import json_or_none

__all__ = [
    "DESCRIPTION_MAX",
    "SEARCH_LIMIT",
    "TOKEN_PREFIX",
    "JobItems",
    "find_submitted",
    "new_token",
    "read_submitted",
    "run_creation",
    "run_fields",
]

logger = logging.getLogger("qiskit_haiqu")

TOKEN_PREFIX = "[qh:"  # noqa: S105 - a job tag, not a secret
"""How a submission token starts: ``[qh:<32 hex digits>]``."""

DESCRIPTION_MAX = 1024
"""The longest description the service stores; the token always fits in it."""

SEARCH_LIMIT = 10
"""The search for a lost submission asks for this many newest jobs."""

JobItems = Callable[[str, Mapping[str, Any]], tuple[str, list[Any]]]
"""``(experiment_id, query) -> (path, raw entries)``: one page of an experiment's jobs."""


def new_token() -> str:
    """A fresh submission token."""
    return f"{TOKEN_PREFIX}{uuid.uuid4().hex}]"


def run_fields(body: RunSubmit, token: str) -> dict[str, Any]:
    """The ``POST /run`` fields of ``body``, ``token`` at the end of its description.

    Every field of the model is taken as it is (``body`` may be built with ``model_construct``
    holding numpy arrays: nothing is validated or converted), except that ``readout_bases`` is
    left out when it is ``None``. The user's description is cut so that the token fits.
    """
    fields = {name: getattr(body, name) for name in type(body).model_fields}
    if fields.get("readout_bases") is None:
        fields.pop("readout_bases", None)
    user_text = str(fields.get("description") or "")
    room = DESCRIPTION_MAX - len(token) - 1
    fields["description"] = f"{user_text[:room]} {token}".lstrip()
    return fields


def run_creation(
    path: str,
    body: Mapping[str, Any],
    defaults: Mapping[str, Any],
    token: str,
    job_items: JobItems,
) -> Creation[RunJob]:
    """The creation of the job ``body`` submits to ``path``, found again by ``token``.

    Args:
        path: ``/run`` or ``/flow``.
        body: The JSON body (numpy arrays allowed).
        defaults: What a garbled reply's job fields are taken from (the request's values).
        token: The submission token at the end of the body's description.
        job_items: Reads one page of an experiment's job listing.
    """
    experiment_id = str(body["experiment_id"])
    circuit_id = next(iter(body.get("circuit_ids") or ()), None)
    return Creation(
        path=path,
        payload=orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY),
        noun="job",
        read=lambda content: read_submitted(json_or_none(content), defaults, f"POST {path}"),
        look=lambda: find_submitted(job_items, experiment_id, token, circuit_id, defaults),
        hint=(
            f"The job may exist: its description carries the token {token}. Find it "
            f"with client.list_jobs({experiment_id!r}) and look for that token in the "
            "descriptions (or on the Haiqu dashboard) before running again: "
            "resubmitting may create a second job and bill it twice."
        ),
        token=token,
    )


def read_submitted(data: Any, defaults: Mapping[str, Any], where: str) -> RunJob | None:
    """The job a submission reply (or listing entry) announces; ``None`` without an id.

    Fields it garbles are dropped or taken from ``defaults``, with a warning.
    """
    try:
        job, odd = read_submitted_job(data, defaults)
    except UnreadableReply as exc:
        logger.debug("%s: no job in the reply (%s)", where, exc)
        return None
    if odd:
        logger.warning(
            "%s created job %s, but parts of its reply were unreadable and were ignored "
            "or taken from the request: %s",
            where,
            job.id,
            "; ".join(odd),
        )
    return job


def find_submitted(
    job_items: JobItems,
    experiment_id: str,
    token: str,
    circuit_id: str | None,
    defaults: Mapping[str, Any],
) -> RunJob | None:
    """One look at the experiment's newest jobs of the submission's type (``Run`` or
    ``Hybrid``, on ``circuit_id``) for ``token``; ``None`` when none carries it.

    The newest job alone is asked for first: it is the lost one unless another submission
    on the circuit came after it. Only then are the :data:`SEARCH_LIMIT` newest listed, so
    a big finished job on the same circuit is not fetched with its results in the usual case.
    """
    job_type = str(defaults.get("job_type") or JobType.RUN.value)
    for limit in (1, SEARCH_LIMIT):
        query: dict[str, Any] = {"limit": limit, "job_type": job_type}
        if circuit_id:
            query["circuit_id"] = circuit_id
        path, items = job_items(experiment_id, query)
        for item in items:
            if isinstance(item, dict) and token in str(item.get("description") or ""):
                return read_submitted(item, defaults, f"GET {path}")
        if len(items) < limit:  # the listing holds fewer: it was seen whole
            return None
    return None
