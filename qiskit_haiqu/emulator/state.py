"""Thread-safe in-memory store of the emulator's experiments, circuits and jobs."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from typing import Any

from pydantic import SecretStr
from qiskit.circuit import QuantumCircuit

from qiskit_haiqu.api.models import FINAL_STATUSES, Circuit, Experiment, RunJob, User

__all__ = ["CircuitRecord", "EmulatorState", "JobRecord", "new_id", "utcnow"]

USER_ID = 1
REDACTED_KEY = "**********"
_MAX_EXPIRED_IDS = 100_000  # ids of forgotten jobs remembered (for a clear 404): ~10 MB


def new_id(prefix: str) -> str:
    """A fresh opaque id such as ``exp-<uuid>``."""
    return f"{prefix}-{uuid.uuid4()}"


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def emulator_user() -> User:
    """The single user of the emulator. Its access key is a placeholder, never a real key."""
    return User(
        email="emulator@localhost",
        username="emulator",
        first_name="Local",
        last_name="Emulator",
        api_access_key=SecretStr(REDACTED_KEY),
    )


@dataclass
class CircuitRecord:
    """A stored circuit: its wire model and the decoded circuit (never changed once stored)."""

    model: Circuit
    circuit: QuantumCircuit

    @cached_property
    def acted_on(self) -> frozenset[int]:
        """The qubits an instruction other than a barrier acts on (delays included: a noisy
        device relaxes during them), as Aer counts them; worked out once per circuit."""
        circuit = self.circuit
        return frozenset(
            circuit.find_bit(qubit).index
            for instruction in circuit.data
            if instruction.operation.name != "barrier"
            for qubit in instruction.qubits
        )


@dataclass
class JobRecord:
    """A job: its current wire model (replaced, never mutated), its cancel signal, and the
    wire JSON of its final model once written (a finished job's reply is stored, as a service
    stores results, not serialised again for every request)."""

    model: RunJob
    cancel_event: threading.Event = field(default_factory=threading.Event)
    wire: tuple[RunJob, bytes] | None = None


def _model_json(job: RunJob) -> bytes:
    return job.model_dump_json().encode()


class EmulatorState:
    """Experiments, circuits and jobs, guarded by one lock.

    Wire models are treated as immutable: updates replace them with a copy, so a reader can
    serialise a model it fetched without holding the lock.
    """

    def __init__(
        self, max_finished_jobs: int = 0, wire: Callable[[RunJob], bytes] | None = None
    ) -> None:
        """Create an empty store.

        Args:
            max_finished_jobs: Finished jobs kept (the oldest finished ones are forgotten
                first); ``0`` keeps every job.
            wire: A job's wire JSON (default: the model's JSON).
        """
        self._wire = wire or _model_json
        self._lock = threading.RLock()
        self._experiments: OrderedDict[str, Experiment] = OrderedDict()
        self._circuits: OrderedDict[str, CircuitRecord] = OrderedDict()
        self._by_hash: dict[tuple[str, str], str] = {}
        self._jobs: OrderedDict[str, JobRecord] = OrderedDict()
        self._finished: OrderedDict[str, None] = OrderedDict()  # in the order they finished
        self._expired: OrderedDict[str, None] = OrderedDict()  # ids forgotten, most recent last
        self._max_finished = max_finished_jobs
        self._user = emulator_user()

    def get_user(self) -> User:
        """The emulator's single user."""
        return self._user

    # Experiments -------------------------------------------------------------------------

    def create_experiment(
        self, name: str, description: str, tags: str, metrics: dict[str, Any]
    ) -> Experiment:
        """Create and store an experiment."""
        now = utcnow()
        experiment = Experiment(
            id=new_id("exp"),
            name=name,
            description=description,
            creation_date=now,
            user_id=USER_ID,
            user=self._user,
            tags=tags,
            circuits_count=0,
            jobs_count=0,
            last_action_date=now,
            metrics=metrics,
        )
        with self._lock:
            self._experiments[experiment.id] = experiment
        return experiment

    def init_experiment(
        self, name: str, description: str, tags: str, metrics: dict[str, Any]
    ) -> Experiment:
        """Get the experiment named (or with the id) ``name``, or create it."""
        with self._lock:
            if name in self._experiments:
                return self._experiments[name]
            for experiment in self._experiments.values():
                if experiment.name == name:
                    return experiment
            return self.create_experiment(name, description, tags, metrics)

    def get_experiment(self, experiment_id: str) -> Experiment | None:
        """The experiment with this id, or ``None``."""
        with self._lock:
            return self._experiments.get(experiment_id)

    def list_experiments(self, name: str | None = None) -> list[Experiment]:
        """All experiments (oldest first), optionally only those with this name."""
        with self._lock:
            return [e for e in self._experiments.values() if name is None or e.name == name]

    def update_experiment(self, experiment_id: str, **changes: Any) -> Experiment | None:
        """Change an experiment's fields; ``None`` when it does not exist."""
        with self._lock:
            experiment = self._experiments.get(experiment_id)
            if experiment is None:
                return None
            updated = experiment.model_copy(update={**changes, "last_action_date": utcnow()})
            self._experiments[experiment_id] = updated
            return updated

    def _touch(self, experiment_id: str, circuits: int = 0, jobs: int = 0) -> None:
        experiment = self._experiments.get(experiment_id)
        if experiment is None:
            return
        self._experiments[experiment_id] = experiment.model_copy(
            update={
                "circuits_count": (experiment.circuits_count or 0) + circuits,
                "jobs_count": (experiment.jobs_count or 0) + jobs,
                "last_action_date": utcnow(),
            }
        )

    # Circuits ----------------------------------------------------------------------------

    def add_circuit(self, record: CircuitRecord) -> None:
        """Store a circuit; it becomes the one found by its hash in its experiment."""
        model = record.model
        with self._lock:
            self._circuits[model.id] = record
            self._by_hash[(model.experiment_id, model.hash)] = model.id
            self._touch(model.experiment_id, circuits=1)

    def get_circuit(self, circuit_id: str) -> CircuitRecord | None:
        """The circuit with this id, or ``None``."""
        with self._lock:
            return self._circuits.get(circuit_id)

    def circuit_by_hash(self, experiment_id: str, circuit_hash: str) -> CircuitRecord | None:
        """The circuit last registered with this hash in this experiment, or ``None``."""
        with self._lock:
            circuit_id = self._by_hash.get((experiment_id, circuit_hash))
            return None if circuit_id is None else self._circuits.get(circuit_id)

    def list_circuits(self, experiment_id: str) -> list[CircuitRecord]:
        """The circuits of an experiment, oldest first."""
        with self._lock:
            return [r for r in self._circuits.values() if r.model.experiment_id == experiment_id]

    # Jobs --------------------------------------------------------------------------------

    def add_job(self, job: RunJob) -> JobRecord:
        """Store a new job and link it to its circuits."""
        record = JobRecord(job)
        with self._lock:
            self._jobs[job.id] = record
            self._touch(job.experiment_id, jobs=1)
            for circuit_id in dict.fromkeys(job.circuit_ids):
                circuit = self._circuits.get(circuit_id)
                if circuit is not None:
                    job_ids = [*(circuit.model.job_ids or []), job.id]
                    circuit.model = circuit.model.model_copy(update={"job_ids": job_ids})
        return record

    def get_job(self, job_id: str) -> JobRecord | None:
        """The job with this id, or ``None``."""
        with self._lock:
            return self._jobs.get(job_id)

    def update_job(self, job_id: str, *, only_if_not_final: bool = True, **changes: Any) -> bool:
        """Replace fields of a job; refused (``False``) once the job is final, by default."""
        with self._lock:
            record = self._jobs.get(job_id)
            if record is None:
                return False
            if only_if_not_final and record.model.status in FINAL_STATUSES:
                return False
            record.model = record.model.model_copy(update=changes)
            if record.model.status in FINAL_STATUSES:
                self._retire(job_id)
            return True

    def job_json(self, job: RunJob) -> bytes:
        """The wire JSON of ``job`` (a model this store handed out), written once for a final
        job and kept with it while the job is kept."""
        with self._lock:
            record = self._jobs.get(job.id)
            cached = None if record is None else record.wire
        if cached is not None and cached[0] is job:
            return cached[1]
        body = self._wire(job)
        if job.status in FINAL_STATUSES:
            with self._lock:
                if record is not None and record.model is job:
                    record.wire = (job, body)
        return body

    def job_count(self) -> int:
        """How many jobs the store holds (running and finished)."""
        with self._lock:
            return len(self._jobs)

    def job_expired(self, job_id: str) -> bool:
        """Whether ``job_id`` was a job forgotten under the retention limit."""
        with self._lock:
            return job_id in self._expired

    def _retire(self, job_id: str) -> None:
        """Count a job as finished; forget the oldest finished ones past the limit."""
        self._finished[job_id] = None
        while self._max_finished and len(self._finished) > self._max_finished:
            old, _ = self._finished.popitem(last=False)
            record = self._jobs.pop(old, None)
            if record is not None:
                self._forget_links(record.model)
            self._expired[old] = None
            while len(self._expired) > _MAX_EXPIRED_IDS:
                self._expired.popitem(last=False)

    def _forget_links(self, job: RunJob) -> None:
        """Drop a forgotten job's id from its circuits' ``job_ids``."""
        for circuit_id in dict.fromkeys(job.circuit_ids):
            circuit = self._circuits.get(circuit_id)
            if circuit is not None and circuit.model.job_ids:
                job_ids = [j for j in circuit.model.job_ids if j != job.id]
                circuit.model = circuit.model.model_copy(update={"job_ids": job_ids})

    def list_jobs(
        self, experiment_id: str, *, job_type: str | None, circuit_id: str | None, limit: int
    ) -> list[RunJob]:
        """An experiment's jobs, newest first."""
        with self._lock:
            jobs = [r.model for r in reversed(self._jobs.values())]
        selected = [
            j
            for j in jobs
            if j.experiment_id == experiment_id
            and (job_type is None or j.job_type == job_type)
            and (circuit_id is None or circuit_id in j.circuit_ids)
        ]
        return selected[:limit]
