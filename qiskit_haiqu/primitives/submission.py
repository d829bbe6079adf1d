"""Submitting a plan: the experiment, the device check, circuit uploads, one post per job.

:class:`Submitter` is what a primitive keeps between runs: the experiment id, the checked
device, the ids of the circuits it uploaded (keyed by a content fingerprint), and how long
recent jobs took. It performs only I/O: what to send comes from the
:class:`~qiskit_haiqu.primitives.plan.RunPlan`.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qiskit.circuit import QuantumCircuit

from qiskit_haiqu.api.client import TOKEN_PREFIX, HaiquClient
from qiskit_haiqu.api.models import CircuitSubmit, Device, RunJob, RunSubmit
from qiskit_haiqu.errors import HaiquAPIError, HaiquError, HaiquInputError, NotFoundError
from qiskit_haiqu.primitives.options import CommonOptions
from qiskit_haiqu.primitives.plan import PlannedJob, RunPlan
from qiskit_haiqu.primitives.polling import RecentDurations
from qiskit_haiqu.primitives.single_flight import SingleFlight
from qiskit_haiqu.primitives.user_warnings import warn_user
from qiskit_haiqu.translate.circuits import encode_circuit
from qiskit_haiqu.translate.fingerprint_cache import FingerprintCache
from qiskit_haiqu.translate.job_context import fit_description

__all__ = ["DESCRIPTION_ROOM", "PreparedCircuits", "Submission", "Submitter", "submission_fields"]

logger = logging.getLogger("qiskit_haiqu")


def _description_room() -> int:
    """Characters of a job description the primitive may fill.

    The wire holds ``RunSubmit.description``'s maximum (1024), and the client appends its
    submission token (``[qh:<32 hex digits>]``) after a space; it cuts what is longer.
    """
    limit = min(
        int(item.max_length)
        for item in RunSubmit.model_fields["description"].metadata
        if getattr(item, "max_length", None) is not None
    )
    return limit - (len(TOKEN_PREFIX) + 32 + 1) - 1


DESCRIPTION_ROOM = _description_room()
"""Characters of a job description left for ``options.job_description`` and the context."""


@dataclass(frozen=True)
class Submission:
    """What submitting a plan gave: the Haiqu jobs, whether a circuit was new, and how long
    the last job's ``POST`` took from request to reply (seconds)."""

    jobs: list[RunJob]
    new_circuits: bool  # the first run of a circuit includes one-time work on the server
    post_seconds: float = 0.0


class PreparedCircuits:
    """Circuits of one ``run()``, fingerprinted and (where not yet uploaded) QPY-encoded.

    Preparing is pure: it happens before any request, so a circuit QPY cannot write is
    refused before anything is uploaded.
    """

    def __init__(
        self,
        fingerprints: list[str],
        encoded: dict[str, str],
        circuits: dict[str, QuantumCircuit],
        qpy_version: int,
    ) -> None:
        self.fingerprints = fingerprints
        self.encoded = encoded  # fingerprint -> base64 QPY, for circuits not uploaded yet
        self.circuits = circuits  # fingerprint -> circuit
        self.qpy_version = qpy_version

    def qpy(self, fp: str) -> str:
        """The base64 QPY of the circuit with fingerprint ``fp``."""
        if fp not in self.encoded:
            self.encoded[fp] = encode_circuit(self.circuits[fp], qpy_version=self.qpy_version)
        return self.encoded[fp]


class Submitter:
    """Holds a client plus what a primitive learns once and reuses on every run.

    The experiment id, the device check and the circuit ids (keyed by a content
    fingerprint that includes parameter names and order) are looked up on the first run
    only, so a variational loop that reruns one circuit makes a single ``POST /run`` per
    run after the first. Safe to use from several threads.
    """

    def __init__(self, client: HaiquClient | None, device_id: str) -> None:
        """Create a submitter for ``device_id`` on ``client`` (a default client when ``None``).

        ``owns_client`` tells whether the client was made here (and is closed by ``close``).
        """
        if not isinstance(device_id, str) or not device_id:
            raise HaiquInputError(
                "device_id must be a non-empty string such as 'aer_simulator'; "
                "client.list_devices() lists the devices you can use."
            )
        self.owns_client = client is None
        self.client = client if client is not None else HaiquClient()
        self.device_id = device_id
        self.durations = RecentDurations()
        self._fingerprints = FingerprintCache()
        self._experiments: SingleFlight[str, str] = SingleFlight()
        self._device: SingleFlight[str, Device] = SingleFlight()
        self._circuit_ids: SingleFlight[tuple[str, str], str] = SingleFlight()

    def close(self) -> None:
        """Close the client if this submitter made it (a client passed in stays open)."""
        if self.owns_client:
            self.client.close()

    def forget_circuits(self) -> None:
        """Forget the uploaded circuits' ids (the next runs look them up or upload again)."""
        self._circuit_ids.clear()

    def prepare(self, circuits: Sequence[QuantumCircuit], qpy_version: int) -> PreparedCircuits:
        """Fingerprint ``circuits`` and encode those this runner has not uploaded yet."""
        known = {fp for (_, fp) in self._circuit_ids.computed()}
        fingerprints: list[str] = []
        encoded: dict[str, str] = {}
        by_fp: dict[str, QuantumCircuit] = {}
        by_object: dict[int, str] = {}
        for circuit in circuits:
            fp = by_object.get(id(circuit))
            if fp is None:
                fp = self._fingerprints.fingerprint(circuit, qpy_version=qpy_version)
                by_object[id(circuit)] = fp
            fingerprints.append(fp)
            by_fp.setdefault(fp, circuit)
            if fp not in known and fp not in encoded:
                encoded[fp] = encode_circuit(circuit, qpy_version=qpy_version)
        return PreparedCircuits(fingerprints, encoded, by_fp, qpy_version)

    def experiment_id(self, name: str) -> str:
        """The id of the experiment called ``name`` (created on first use, once)."""
        return self._experiments.get(name, lambda: self.client.init_experiment(name).id)

    def device(self) -> Device:
        """The device, checked once; an unknown id is refused with the available ones."""
        return self._device.get(self.device_id, self._fetch_device)

    def _fetch_device(self) -> Device:
        try:
            device = self.client.get_device(self.device_id)
        except NotFoundError:
            try:
                available = ", ".join(sorted(d.id for d in self.client.list_devices()))
            except Exception:  # noqa: BLE001 - the listing is only a hint
                available = "(could not list them)"
            raise HaiquInputError(
                f"Unknown device {self.device_id!r}. Pass one of the available devices as "
                f"device_id: {available}."
            ) from None
        return device

    def circuit_ids(self, experiment_id: str, prepared: PreparedCircuits) -> tuple[list[str], bool]:
        """Ids of the prepared circuits, uploading each distinct one at most once.

        Before uploading, the experiment is asked whether it already holds a circuit with
        the same fingerprint (uploaded by another process, for example).

        Returns:
            The ids in order, and whether any circuit was not known to this submitter.
        """
        ids: list[str] = []
        new = False
        for fp in prepared.fingerprints:
            key = (experiment_id, fp)
            circuit_id = self._circuit_ids.peek(key)
            if circuit_id is None:
                new = True
                upload = functools.partial(self._lookup_or_upload, experiment_id, fp, prepared)
                circuit_id = self._circuit_ids.get(key, upload)
            ids.append(circuit_id)
        return ids, new

    def _lookup_or_upload(self, experiment_id: str, fp: str, prepared: PreparedCircuits) -> str:
        found = self.client.find_circuit(experiment_id, fp)
        if found is not None:
            logger.debug("Circuit %s already stored as %s", fp[:12], found.id)
            return found.id
        name = prepared.circuits[fp].name[:200]
        circuit = self.client.upload_circuit(
            CircuitSubmit(
                experiment_id=experiment_id, qpy_dump=prepared.qpy(fp), hash=fp, name=name
            )
        )
        logger.debug("Uploaded circuit %s as %s", name, circuit.id)
        return circuit.id

    def submit(self, plan: RunPlan[Any], options: CommonOptions, owner: str) -> Submission:
        """Upload what is missing and post one run per planned job.

        Everything that can be refused without the network (QPY encoding, descriptions) is
        done before the first request. When a later job of a split run is refused, the
        jobs already submitted are cancelled and the error says so.

        Args:
            plan: The run's plan (at least one job).
            options: The run's options, already resolved for the device.
            owner: The primitive's class name (for warnings).
        """
        prepared = self.prepare(plan.circuits(), options.qpy_version)
        descriptions = _descriptions(owner, options.job_description, plan.jobs)
        experiment_id = self.experiment_id(options.experiment_name)
        self.device()
        ids, new = self.circuit_ids(experiment_id, prepared)
        jobs: list[RunJob] = []
        start = 0
        post_seconds = 0.0
        try:
            for planned, description in zip(plan.jobs, descriptions, strict=True):
                count = len(planned.circuits)
                body = _run_body(options, planned, ids[start : start + count], description)
                start += count
                posted = time.monotonic()
                jobs.append(self._post(experiment_id, body))
                post_seconds = time.monotonic() - posted
        except HaiquError as error:
            if jobs:  # a split run failed part-way: do not leave half of it running unseen
                raise _with_cancelled(self.client, jobs, error) from error
            raise
        return Submission(jobs, new, post_seconds)

    def _post(self, experiment_id: str, fields: dict[str, Any]) -> RunJob:
        """Post one run (not re-validated: built by us) to ``/run`` or, alike, ``/flow``."""
        body = RunSubmit.model_construct(
            device_id=self.device_id, experiment_id=experiment_id, **fields
        )
        job = self.client.submit_run(body)
        logger.info("Submitted Haiqu job %s to %s", job.id, self.device_id)
        return job


def _run_body(
    options: CommonOptions, planned: PlannedJob, circuit_ids: list[str], description: str
) -> dict[str, Any]:
    """The body fields of one planned job (besides the device and the experiment)."""
    fields = submission_fields(options, planned.circuits)
    fields.update(
        circuit_ids=circuit_ids,
        shots=planned.shots,
        parameters=planned.parameters,
        observables=planned.observables,
        run_type=planned.run_type,
        description=description,
    )
    return fields


def _with_cancelled(client: HaiquClient, jobs: Sequence[RunJob], error: HaiquError) -> HaiquError:
    """``error`` of a split run's later part, completed: the earlier parts are cancelled."""
    outcomes = []
    for job in jobs:
        try:
            status = client.cancel_job(job.id).status
        except HaiquError:
            status = "cancel failed"
        outcomes.append(f"{job.id} ({status})")
    message = (
        f"{error.message} The run was split into several jobs and this part was refused, so "
        f"the parts already submitted were cancelled: {', '.join(outcomes)}."
    )
    if isinstance(error, HaiquAPIError):  # keeps its status code, detail, token
        return error.with_message(message)
    return type(error)(message)


def _descriptions(owner: str, text: str, jobs: Sequence[PlannedJob]) -> list[str]:
    """Each job's description: ``text``, then the job's context, which is never cut.

    Warns (``UserWarning``) when ``text`` had to be shortened to make room for a context,
    and when a context is too large to store at all (its job is then decoded by this
    process only): the user learns it at submission, not at ``job(id)`` later.
    """
    descriptions: list[str] = []
    cuts: list[int] = []
    unstored: list[int] = []
    for planned in jobs:
        fitted = None
        if planned.context is not None:
            fitted = fit_description(text, planned.context, DESCRIPTION_ROOM)
            if fitted is None:
                unstored.append(len(planned.context))
        description, cut = fitted or (text[:DESCRIPTION_ROOM].strip(), 0)
        descriptions.append(description)
        cuts.append(cut)
    which_jobs = "the Haiqu job" if len(jobs) == 1 else f"{len(jobs)} Haiqu jobs"
    if any(cuts):
        shortened = sum(1 for cut in cuts if cut)
        which = which_jobs if shortened == len(jobs) else f"{shortened} of the {which_jobs}"
        warn_user(
            f"options.job_description ({len(text)} characters) was shortened by up to "
            f"{max(cuts)} characters in the description of {which} of this run: a job "
            f"description holds {DESCRIPTION_ROOM} characters besides the submission "
            f"token, and the layout stored after your text, which lets "
            f"{owner}.job(job_id) decode the job in another process, comes first. Keep "
            f"job_description to {len(text) - max(cuts)} characters to have it whole."
        )
    if unstored:
        which = which_jobs if len(unstored) == len(jobs) else f"{len(unstored)} of the {which_jobs}"
        warn_user(
            f"The layout of {which} of this run is too large to store in a job "
            f"description ({max(unstored)} characters; {DESCRIPTION_ROOM} fit): this "
            f"process gets the result as usual, but {owner}.job(job_id) in another process "
            "will not be able to decode it. Submit fewer pubs per run(), or lower "
            "options.max_circuits_per_job, to keep the jobs reattachable."
        )
    return descriptions


def submission_fields(options: CommonOptions, circuits: Sequence[QuantumCircuit]) -> dict[str, Any]:
    """The ``POST /run`` fields that come from the options (not from the pubs)."""
    device_options = options.wire_device_options()
    mitigation = options.error_mitigation_options.to_wire()
    if options.use_mitigation and mitigation:
        device_options["error_mitigation_options"] = mitigation
    name = options.job_name
    if not name and circuits:
        name = circuits[0].name
        if len(circuits) > 1:
            others = len(circuits) - 1
            name = f"{name} + {others} other{'s' if others > 1 else ''}"
    return {
        "options": device_options,
        "use_mitigation": options.use_mitigation,
        "dry_run": options.dry_run,
        "name": name[:200],
        "description": options.job_description,
        "run_type": "Run",
    }
