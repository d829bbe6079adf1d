"""What the sampler and the estimator share: experiment, device check, uploads, submission."""

from __future__ import annotations

import functools
import logging
import threading
from collections import deque
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
from qiskit.circuit import QuantumCircuit

from qiskit_haiqu.api.client import HaiquClient
from qiskit_haiqu.api.models import CircuitSubmit, Device, RunJob, RunSubmit
from qiskit_haiqu.errors import HaiquInputError, HaiquInvalidResponseError, NotFoundError
from qiskit_haiqu.primitives.options import CommonOptions
from qiskit_haiqu.primitives.single_flight import SingleFlight
from qiskit_haiqu.translate.circuits import (
    circuit_fingerprint,
    decode_circuit,
    encode_circuit,
    stored_view,
)
from qiskit_haiqu.translate.job_context import read_context

__all__ = [
    "JobRunner",
    "PreparedCircuits",
    "group_by",
    "result_metadata",
    "job_results",
    "jobs_with_context",
    "split_groups",
    "stored_circuit",
    "submission_fields",
    "wire_parameters",
]

logger = logging.getLogger("qiskit_haiqu")


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
        self.new = False  # set when a circuit was not known to this runner before

    def qpy(self, fp: str) -> str:
        """The base64 QPY of the circuit with fingerprint ``fp``."""
        if fp not in self.encoded:
            self.encoded[fp] = encode_circuit(self.circuits[fp], qpy_version=self.qpy_version)
        return self.encoded[fp]


class JobRunner:
    """Holds a client plus what a primitive learns once and reuses on every call.

    The experiment id, the device check and the circuit ids (keyed by a content
    fingerprint that includes parameter names and order) are looked up on the first call
    only, so a variational loop that reruns one circuit makes a single ``POST /run`` per
    call after the first. Safe to use from several threads.
    """

    def __init__(self, client: HaiquClient | None, device_id: str) -> None:
        """Create a runner for ``device_id`` on ``client`` (a default client when ``None``)."""
        if not isinstance(device_id, str) or not device_id:
            raise HaiquInputError(
                "device_id must be a non-empty string such as 'aer_simulator'; "
                "client.list_devices() lists the devices you can use."
            )
        self.client = client if client is not None else HaiquClient()
        self.device_id = device_id
        self._experiments: SingleFlight[str, str] = SingleFlight()
        self._device: SingleFlight[str, Device] = SingleFlight()
        self._circuit_ids: SingleFlight[tuple[str, str], str] = SingleFlight()
        self._durations: deque[float] = deque(maxlen=5)
        self._lock = threading.Lock()

    def expected_duration(self) -> float | None:
        """How long the service took for recent jobs (the least of the last three).

        The least, so that one slow job (a first run that transpiles, say) does not delay
        the polls of the quick ones after it.
        """
        with self._lock:
            recent = list(self._durations)[-3:]
        return min(recent) if recent else None

    def record_duration(self, seconds: float) -> None:
        """Remember how long a job took, to time the first poll of the next one."""
        with self._lock:
            self._durations.append(seconds)

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
                fp = circuit_fingerprint(circuit, qpy_version=qpy_version)
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

    def circuit_ids(self, experiment_id: str, prepared: PreparedCircuits) -> list[str]:
        """Ids of the prepared circuits, uploading each distinct one at most once.

        Before uploading, the experiment is asked whether it already holds a circuit with
        the same fingerprint (uploaded by another process, for example).
        """
        ids: list[str] = []
        for fp in prepared.fingerprints:
            key = (experiment_id, fp)
            circuit_id = self._circuit_ids.peek(key)
            if circuit_id is None:
                prepared.new = True
                upload = functools.partial(self._lookup_or_upload, experiment_id, fp, prepared)
                circuit_id = self._circuit_ids.get(key, upload)
            ids.append(circuit_id)
        return ids

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

    def submit(self, **fields: Any) -> RunJob:
        """Submit one run built from ``fields`` (not re-validated: built by us).

        The client sends it to ``POST /run`` or, with the same meaning, ``POST /flow``.
        """
        body = RunSubmit.model_construct(device_id=self.device_id, **fields)
        job = self.client.submit_run(body)
        logger.info("Submitted Haiqu job %s to %s", job.id, self.device_id)
        return job


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


def group_by(keys: Sequence[Hashable]) -> dict[Hashable, list[int]]:
    """Indices of ``keys`` grouped by value, groups in order of first appearance."""
    groups: dict[Hashable, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    return groups


def split_groups(
    groups: Sequence[Sequence[int]], entries: Sequence[int], limit: int
) -> list[list[int]]:
    """Split each group of pub indices so that no job holds more than ``limit`` circuit entries.

    ``entries[i]`` is how many circuit entries pub ``i`` needs; a pub is never split, so one
    pub needing more than ``limit`` entries travels alone.
    """
    chunks: list[list[int]] = []
    for group in groups:
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
