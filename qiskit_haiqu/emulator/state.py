"""The emulator's in-memory store of experiments, circuits and jobs."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from qiskit.circuit import QuantumCircuit

__all__ = ["StoredCircuit", "Store", "now"]

USER_ID = 1
USER = {
    "email": "emulator@localhost",
    "username": "emulator",
    "first_name": "Local",
    "last_name": "Emulator",
    "api_access_key": "***",  # never the real key
}


def now() -> datetime:
    """The current UTC time."""
    return datetime.now(timezone.utc)


def new_id(prefix: str) -> str:
    """An opaque id like the service's (``exp-…``, ``circ-…``, ``jb-…``)."""
    return f"{prefix}-{uuid.uuid4()}"


@dataclass
class StoredCircuit:
    """A stored circuit: its wire record and the decoded circuit."""

    record: dict[str, Any]
    circuit: QuantumCircuit


@dataclass
class Store:
    """Thread-safe in-memory state."""

    experiments: dict[str, dict[str, Any]] = field(default_factory=dict)
    circuits: dict[str, StoredCircuit] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def experiment(self, name: str, description: str = "", tags: str = "") -> dict[str, Any]:
        """Get or create the experiment called ``name``."""
        with self.lock:
            for experiment in self.experiments.values():
                if experiment["name"] == name:
                    return experiment
            experiment = {
                "id": new_id("exp"),
                "name": name,
                "description": description,
                "tags": tags,
                "creation_date": now(),
                "user_id": USER_ID,
                "user": USER,
                "circuits_count": 0,
                "jobs_count": 0,
                "metrics": {},
            }
            self.experiments[experiment["id"]] = experiment
            return experiment

    def add_circuit(self, record: dict[str, Any], circuit: QuantumCircuit) -> dict[str, Any]:
        """Store a circuit record (its id and dates are filled in)."""
        with self.lock:
            record.update(
                id=new_id("circ"),
                creation_date=now(),
                user_id=USER_ID,
                status="Done",
                generated=False,
                job_ids=[],
                analytics={"qubits": circuit.num_qubits, "depth": circuit.depth()},
                parameters={"names": [p.name for p in circuit.parameters]},
            )
            self.circuits[record["id"]] = StoredCircuit(record, circuit)
            self.experiments[record["experiment_id"]]["circuits_count"] += 1
            return record

    def circuit_by_hash(self, experiment_id: str, circuit_hash: str) -> dict[str, Any] | None:
        """The newest circuit of the experiment with that hash."""
        with self.lock:
            for stored in reversed(list(self.circuits.values())):
                record = stored.record
                if record["experiment_id"] == experiment_id and record["hash"] == circuit_hash:
                    return record
        return None

    def add_job(self, job: dict[str, Any]) -> dict[str, Any]:
        """Store a new job record."""
        with self.lock:
            self.jobs[job["id"]] = job
            self.experiments[job["experiment_id"]]["jobs_count"] += 1
            return job

    def update_job(self, job_id: str, **fields: Any) -> bool:
        """Update a job unless it is already final; returns whether it changed."""
        with self.lock:
            job = self.jobs[job_id]
            if job["status"] in ("Done", "Error", "Cancelled"):
                return False
            job.update(fields)
            return True

    def snapshot(self, job_id: str) -> dict[str, Any] | None:
        """A copy of a job record, safe to serialise outside the lock."""
        with self.lock:
            job = self.jobs.get(job_id)
            return dict(job) if job is not None else None
