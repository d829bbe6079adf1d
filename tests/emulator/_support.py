"""Helpers of the emulator tests: plain httpx against a running emulator."""

from __future__ import annotations

import base64
import io
import time
import uuid
from typing import Any

import plain_http
import pytest
from qiskit import QuantumCircuit, qpy
from shared_circuits import bell as bell

API_KEY = "test-key-123"
FINAL = {"Done", "Error", "Cancelled"}


def encode(circuit: QuantumCircuit) -> str:
    """Base64 QPY of one circuit, as the SDK sends it."""
    buffer = io.BytesIO()
    qpy.dump(circuit, buffer, version=16)
    return base64.b64encode(buffer.getvalue()).decode()


class Api:
    """A thin httpx wrapper with the calls the tests repeat."""

    def __init__(self, url: str, key: str = API_KEY) -> None:
        self.url = url
        self.http = plain_http.client(base_url=url, headers={"authorization": key}, timeout=60)

    def close(self) -> None:
        self.http.close()

    def experiment(self, name: str | None = None) -> str:
        response = self.http.post("/experiments/init", json={"name": name or f"e-{uuid.uuid4()}"})
        response.raise_for_status()
        return str(response.json()["id"])

    def upload(self, experiment_id: str, circuit: QuantumCircuit, circuit_hash: str = "") -> str:
        response = self.http.post(
            "/circuits",
            json={
                "experiment_id": experiment_id,
                "qpy_dump": encode(circuit),
                "hash": circuit_hash or str(uuid.uuid4().int),
                "name": circuit.name,
            },
        )
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    def submit(self, **body: Any) -> dict[str, Any]:
        response = self.http.post("/run", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait(self, job_id: str, timeout: float = 120.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            response = self.http.get(f"/jobs/{job_id}")
            response.raise_for_status()
            job = dict(response.json())
            if job["status"] in FINAL:
                return job
            if time.monotonic() > deadline:
                pytest.fail(f"job {job_id} still {job['status']} after {timeout} s")
            time.sleep(0.01)

    def run(self, **body: Any) -> dict[str, Any]:
        """Submit and wait; fail the test unless the job ends Done."""
        job = self.wait(self.submit(**body)["id"])
        assert job["status"] == "Done", job.get("logs")
        return job
