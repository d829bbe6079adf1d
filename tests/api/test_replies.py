"""Replies read as loosely as the SDK reads them: odd jobs, free-form costs, Hybrid jobs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import orjson
import plain_http
import pytest
from qiskit.quantum_info import SparsePauliOp
from shared_circuits import bell, ghz

from qiskit_haiqu import (
    HaiquClient,
    HaiquEstimator,
    HaiquInvalidResponseError,
    HaiquSampler,
)
from qiskit_haiqu.api.models import BaseJob, HybridJob, RunJob, RunSubmit

API_KEY = "test-key-123"
COMMON = {"user_id": 1, "experiment_id": "exp-1", "creation_date": "2026-01-01T00:00:00Z"}
RUN = {
    **COMMON,
    "id": "jb-run",
    "status": "Done",
    "job_type": "Run",
    "device_id": "aer_simulator",
    "circuit_ids": ["circ-1"],
    "shots": 100,
    "options": {},
    "use_mitigation": False,
    "dry_run": False,
    "run_type": "Run",
    "quantum_results": [{"00": 0.5, "11": 0.5}],
}
PROGRAM = {
    "schema_version": 1,
    "layers": [
        {"type": "input"},
        {"type": "estimator", "mitigation_enabled": True},
        {"type": "device", "device_id": "fake_kyiv", "options": {"use_packing": True}},
    ],
}
HYBRID = {
    **COMMON,
    "id": "jb-hybrid",
    "status": "Done",
    "job_type": "Hybrid",
    "input_circuit_ids": ["circ-1"],
    "program": PROGRAM,
    "shots": 1000,
    "quantum_results": [[0.25, -0.5]],
    "info": {"uncertainty": [[0.01, 0.02]], "quality_assessment": {"score": 0.9}},
    "pre_device_pipeline_time": 0.3,
    "quality": 0.98,
}


def _serving(routes: dict[str, Any], seen: list[httpx.Request] | None = None) -> HaiquClient:
    """A client whose service answers each path with the JSON (or bytes) of ``routes``."""

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        body = routes[request.url.path]
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        return httpx.Response(200, content=content)

    return HaiquClient(url="https://x.test", api_key="k", transport=httpx.MockTransport(handler))


def test_a_listing_with_foreign_and_broken_jobs_keeps_the_readable_ones(caplog):
    caplog.set_level(logging.DEBUG, logger="qiskit_haiqu")
    data_loading = {
        **COMMON,
        "id": "jb-load",
        "status": "Done",
        "job_type": "Data Loading",
        "parameters": {"num_qubits": 4, "method": "amplitude"},
    }
    listing = [
        RUN,
        data_loading,
        HYBRID,
        {**COMMON, "id": "jb-new", "status": "Done", "job_type": "Quantum Teleportation"},
        {**RUN, "id": "jb-broken", "shots": "many"},
        {"id": "jb-nothing"},
        "not a job",
        {**RUN, "id": "jb-odd", "quality": "excellent", "future": {"x": 1}},
    ]
    jobs = _serving({"/experiments/exp-1/jobs": listing}).list_jobs("exp-1")
    assert [job.id for job in jobs] == ["jb-run", "jb-load", "jb-hybrid", "jb-odd"]
    assert [type(job) for job in jobs] == [RunJob, BaseJob, HybridJob, RunJob]
    assert jobs[1].parameters == {"num_qubits": 4, "method": "amplitude"}
    assert jobs[3].quality is None  # an odd optional field is dropped, not fatal
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 4
    assert all(r.levelno == logging.DEBUG for r in caplog.records if "skipped" in r.getMessage())
    assert "'Quantum Teleportation'" in skipped[0]


def test_a_fetched_job_keeps_its_results_strict():
    client = _serving({"/jobs/jb-run": {**RUN, "quantum_results": "not a list"}})
    with pytest.raises(HaiquInvalidResponseError, match="GET /jobs/jb-run.*quantum_results"):
        client.get_job("jb-run")


@pytest.mark.parametrize(
    "cost",
    [
        {"native": {"amount": None, "unit": "s"}, "converted": {"amount": 0.3, "unit": "USD"}},
        {"native": {"unit": "s"}, "converted": {"amount": 1.5, "unit": "USD", "rate": 0.2}},
        {"native": 12.5, "breakdown": [{"step": "transpile", "amount": None}]},
        {},
    ],
    ids=["null-amount", "extra-key", "bare-number-and-extra", "empty"],
)
def test_free_form_costs_never_break_a_run_reply(cost, caplog):
    client = _serving({"/run": {**RUN, "status": "Submitted", "estimated_qpu_cost": cost}})
    job = client.submit_run(RunSubmit.model_construct(experiment_id="exp-1", circuit_ids=["c"]))
    assert job.id == "jb-run"
    assert job.estimated_qpu_cost is not None
    dumped = job.estimated_qpu_cost.model_dump(exclude_none=True)
    for key, value in cost.items():
        if isinstance(value, list):
            assert dumped[key] == value  # unknown keys are kept
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_run_reply_with_a_job_id_always_gives_the_job(caplog):
    odd = {
        "id": "jb-odd",
        "status": "Queued",
        "job_type": "Run",
        "user_id": "someone",  # not an int
        "creation_date": "yesterday",
        "quality": "n/a",
        "estimated_qpu_cost": "cheap",
        # circuit_ids, shots, device_id, use_mitigation, dry_run, run_type: missing
    }
    client = _serving({"/run": odd})
    body = RunSubmit.model_construct(
        experiment_id="exp-1", circuit_ids=["c1", "c2"], shots=77, device_id="aer_simulator"
    )
    job = client.submit_run(body)
    assert isinstance(job, RunJob)
    assert (job.id, job.status) == ("jb-odd", "Queued")
    assert job.circuit_ids == ["c1", "c2"]  # taken from the request
    assert (job.shots, job.device_id, job.dry_run) == (77, "aer_simulator", False)
    assert job.quality is None
    assert job.estimated_qpu_cost is None
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "POST /run created job jb-odd" in warning
    for name in ("user_id", "creation_date", "quality", "estimated_qpu_cost", "shots"):
        assert name in warning


def test_a_done_reply_with_unreadable_results_is_read_again():
    client = _serving({"/run": {**RUN, "quantum_results": {"00": 1.0}}})
    job = client.submit_run(RunSubmit.model_construct(experiment_id="exp-1", circuit_ids=["c"]))
    assert job.id == "jb-run"
    assert job.status == "Submitted"  # so its handle fetches it from GET /jobs/{id}
    assert job.quantum_results is None


def test_a_hybrid_job_is_a_run_job_with_its_settings_from_the_program():
    job = _serving({"/jobs/jb-hybrid": HYBRID}).get_job("jb-hybrid")
    assert isinstance(job, HybridJob)
    assert isinstance(job, RunJob)
    assert job.circuit_ids == ["circ-1"]
    assert job.device_id == "fake_kyiv"
    assert job.options == {"use_packing": True}
    assert job.use_mitigation is True
    assert job.run_type == "Run"
    assert job.quantum_results == [[0.25, -0.5]]
    assert job.info is not None
    assert job.info["uncertainty"] == [[0.01, 0.02]]
    statevector = {
        **HYBRID,
        "program": {"schema_version": 1, "layers": [{"type": "input"}, {"type": "statevector"}]},
    }
    job = _serving({"/jobs/jb-hybrid": statevector}).get_job("jb-hybrid")
    assert isinstance(job, HybridJob)
    assert job.run_type == "StatevectorRun"


def _as_hybrid(job: dict[str, Any]) -> dict[str, Any]:
    """A ``/run`` job as the service would show the same run made through ``/flow``."""
    layers = [
        {"type": "input"},
        {"type": "device", "device_id": job["device_id"], "options": job["options"]},
    ]
    hybrid = {
        key: value
        for key, value in job.items()
        if key not in ("circuit_ids", "device_id", "options", "use_mitigation", "run_type")
    }
    hybrid.update(
        job_type="Hybrid",
        input_circuit_ids=job["circuit_ids"],
        program={"schema_version": 1, "layers": layers},
        pre_device_pipeline_time=0.1,
    )
    return hybrid


def _hybridising(url: str) -> Callable[[httpx.Request], httpx.Response]:
    """Relays requests to the emulator; its jobs come back as ``Hybrid`` jobs."""
    relay = plain_http.client(base_url=url, timeout=60)

    def handler(request: httpx.Request) -> httpx.Response:
        keep = ("authorization", "content-type", "haiqu-sdk-version")
        answer = relay.request(
            request.method,
            request.url.path,
            params=request.url.params,
            content=request.content,
            headers={k: v for k, v in request.headers.items() if k in keep},
        )
        body = answer.content
        if request.url.path.startswith("/jobs/") and answer.status_code == 200:
            body = orjson.dumps(_as_hybrid(answer.json()))
        return httpx.Response(answer.status_code, content=body)

    return handler


def _hybrid_client(emulator) -> HaiquClient:
    return HaiquClient(
        url="https://hybrid.test",
        api_key=API_KEY,
        transport=httpx.MockTransport(_hybridising(emulator.url)),
    )


def test_hybrid_sampler_results_decode_like_run_results(client, emulator):
    job_id = HaiquSampler("aer_simulator", client=client).run([bell()], shots=200).job_id()
    with _hybrid_client(emulator) as hybrid:
        reattached = HaiquSampler("aer_simulator", client=hybrid).job(job_id)
        counts = reattached.result()[0].data.meas.get_counts()
        assert isinstance(hybrid.get_job(job_id), HybridJob)
    assert sum(counts.values()) == 200
    assert set(counts) <= {"00", "11"}


def test_hybrid_estimator_values_and_stds_decode_like_run_results(client, emulator):
    observable = SparsePauliOp(["ZZ", "XX", "ZI"], [1.0, 0.5, 1.0])
    pub = (ghz(2, measure=False), observable)
    job = HaiquEstimator("aer_simulator", client=client).run([pub], precision=0.05)
    expected = job.result()[0].data
    with _hybrid_client(emulator) as hybrid:
        result = HaiquEstimator("aer_simulator", client=hybrid).job(job.job_id()).result()
    np.testing.assert_allclose(result[0].data.evs, expected.evs)
    np.testing.assert_allclose(result[0].data.stds, expected.stds)
