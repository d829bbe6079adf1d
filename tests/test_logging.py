"""What a user sees with ``logging.basicConfig(level=logging.INFO)``: job status changes, once
each, and no line per HTTP request (httpx logs one per request at INFO)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from qiskit_haiqu.logs import HTTP_LIBRARY_LOGGERS, quiet_http_loggers

API_KEY = "test-key-123"

# A user's program: logging configured as the docs suggest, a sampler job that takes several
# polls, and the number of polls (GET /jobs/{id}) printed on stdout.
PROGRAM = """
import json, logging, sys
from qiskit import QuantumCircuit

url, key, order, httpx_level = sys.argv[1:]
if httpx_level != "unset":
    logging.getLogger("httpx").setLevel(httpx_level)
if order == "before":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:%(name)s:%(message)s")
from qiskit_haiqu import HaiquClient, HaiquSampler
if order == "after":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:%(name)s:%(message)s")

circuit = QuantumCircuit(1)
circuit.x(0)
circuit.measure_all()
with HaiquClient(url=url, api_key=key) as client:
    polls = 0
    get_job = client.get_job

    def counting(job_id):
        global polls
        polls += 1
        return get_job(job_id)

    client.get_job = counting
    job = HaiquSampler("aer_simulator", client=client).run([circuit], shots=10)
    job.result()
print(json.dumps({"job_id": job.job_id(), "polls": polls}))
"""


def _run(url: str, order: str, httpx_level: str = "unset") -> tuple[dict[str, object], list[str]]:
    completed = subprocess.run(  # noqa: S603 - our own program, fixed arguments
        [sys.executable, "-c", PROGRAM, url, API_KEY, order, httpx_level],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout), completed.stderr.splitlines()


@pytest.mark.parametrize("order", ["before", "after"])
def test_basic_config_at_info_shows_each_status_change_once_and_no_requests(emulators, order):
    """``basicConfig`` before or after importing qiskit_haiqu: the same lines."""
    with emulators.client(min_job_seconds=0.6) as client:
        url = client.base_url
    run, lines = _run(url, order)
    job_id = run["job_id"]
    assert run["polls"] >= 3  # several polls, each of which httpx would have logged
    assert lines[0].startswith(f"INFO:qiskit_haiqu:Submitted Haiqu job {job_id} to aer_simul")
    changes = lines[1:]
    assert changes, "no status change was logged"
    assert all(line.startswith(f"INFO:qiskit_haiqu:Haiqu job {job_id}: ") for line in changes)
    assert len(changes) == len(set(changes))
    assert changes[-1].endswith(" -> Done")
    assert len(changes) < run["polls"]  # once per change, not once per poll
    assert not [line for line in lines if "HTTP Request" in line or "httpx" in line]


def test_a_level_set_on_httpx_is_respected(emulators):
    """Who asks for httpx's lines gets them: one per request."""
    with emulators.client(min_job_seconds=0.6) as client:
        url = client.base_url
    run, lines = _run(url, "before", httpx_level="INFO")
    requests = [line for line in lines if line.startswith("INFO:httpx:HTTP Request: ")]
    assert len(requests) >= run["polls"]


def test_quiet_http_loggers_leaves_levels_that_were_set(monkeypatch):
    for name in HTTP_LIBRARY_LOGGERS:
        # The policy was applied when qiskit_haiqu was imported.
        assert logging.getLogger(name).level == logging.WARNING
    httpx_logger, httpcore_logger = (logging.getLogger(n) for n in HTTP_LIBRARY_LOGGERS)
    monkeypatch.setattr(httpx_logger, "level", logging.DEBUG)
    monkeypatch.setattr(httpcore_logger, "level", logging.NOTSET)
    quiet_http_loggers()
    assert httpx_logger.level == logging.DEBUG
    assert httpcore_logger.level == logging.WARNING
