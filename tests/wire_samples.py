"""A Run job as the service sends it, for tests that answer with a mock transport."""

from __future__ import annotations

from typing import Any

RUN_JOB: dict[str, Any] = {
    "user_id": 1,
    "experiment_id": "exp-1",
    "status": "Queued",
    "job_type": "Run",
    "device_id": "aer_simulator",
    "creation_date": "2026-01-01T00:00:00Z",
    "circuit_ids": ["circ-1"],
    "shots": 10,
    "options": {},
    "use_mitigation": False,
    "dry_run": False,
    "run_type": "Run",
}
"""The fields every Run job carries (no ``id``: each test gives its own)."""
