"""Fault tolerance against the emulator's fault injection, over real HTTP."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import plain_http
import pytest
from qiskit.circuit import QuantumCircuit
from qiskit.primitives import PrimitiveResult
from qiskit.providers import JobStatus
from shared_circuits import bell
from wire_samples import RUN_JOB

from qiskit_haiqu import (
    HaiquClient,
    HaiquConnectionError,
    HaiquJob,
    HaiquSampler,
    InvalidRequestError,
    JobCancelledError,
    JobTimeoutError,
    ServerError,
)
from qiskit_haiqu.api.models import RunJob
from qiskit_haiqu.api.retry import RetryPolicy
from qiskit_haiqu.emulator import EmulatorServer, EmulatorSettings

API_KEY = "test-key-123"


class Waits:
    """A retry sleep that records the waits instead of sleeping them."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def faults(emulator) -> Iterator[object]:
    def add(*rules: dict[str, object]) -> None:
        plain_http.post(f"{emulator.url}/_emulator/faults", json=list(rules)).raise_for_status()

    yield add
    plain_http.delete(f"{emulator.url}/_emulator/faults").raise_for_status()


def _client(url: str, waits: Waits, **policy: object) -> HaiquClient:
    return HaiquClient(url=url, api_key=API_KEY, retry=RetryPolicy(sleep=waits, **policy))


def test_bursts_of_gateway_errors_on_polls_are_retried(emulator, faults, request_log):
    waits = Waits()
    with _client(emulator.url, waits) as client:
        sampler = HaiquSampler("aer_simulator", client=client)
        sampler.run([bell()]).result()  # warm: experiment, device and circuit known
        faults(
            {"method": "GET", "path": "/jobs/.*", "action": "status", "status": 502, "count": 1},
            {"method": "GET", "path": "/jobs/.*", "action": "status", "status": 503, "count": 1},
            {"method": "GET", "path": "/jobs/.*", "action": "drop", "count": 1},
            {"method": "GET", "path": "/jobs/.*", "action": "status", "status": 504, "count": 1},
        )
        counts = sampler.run([bell()], shots=500).result()[0].data.meas.get_counts()
    assert sum(counts.values()) == 500
    assert set(counts) <= {"00", "11"}
    assert len(waits.waits) >= 4
    failed = [
        e for e in request_log.entries() if e["path"].startswith("/jobs/") and e["status"] != 200
    ]
    assert len(failed) == 4


def test_retry_after_is_honoured(emulator, faults):
    waits = Waits()
    with _client(emulator.url, waits) as client:
        faults(
            {
                "method": "GET",
                "path": "/devices",
                "action": "status",
                "status": 429,
                "retry_after": 1.5,
                "count": 2,
            }
        )
        assert client.list_devices()
    assert waits.waits == [1.5, 1.5]


def test_a_persistent_outage_ends_in_a_clear_error_within_the_budget(emulator, faults):
    waits = Waits()
    with _client(emulator.url, waits, max_attempts=4) as client:
        faults(
            {"method": "GET", "path": "/devices", "action": "status", "status": 503, "count": 10}
        )
        with pytest.raises(ServerError, match="gave up after 4 attempts"):
            client.list_devices()
    assert len(waits.waits) == 3


def test_post_run_is_never_blindly_retried(emulator, faults, request_log):
    waits = Waits()
    with _client(emulator.url, waits) as client:
        sampler = HaiquSampler("aer_simulator", client=client)
        sampler.run([bell()]).result()
        request_log.clear()
        faults({"method": "POST", "path": "/run", "action": "status", "status": 500, "count": 1})
        with pytest.raises(ServerError):
            sampler.run([bell()])
    assert request_log.count("POST", "/run") == 1


@pytest.mark.parametrize(
    ("action", "posts"),
    [
        ("drop_after", 1),  # the job was created, the reply lost: found, not resubmitted
        ("drop", 2),  # the request never reached the handler: resubmitted once
    ],
)
def test_lost_run_reply_gives_exactly_one_job(emulator, faults, request_log, action, posts):
    with _client(emulator.url, Waits()) as client:
        sampler = HaiquSampler("aer_simulator", client=client)
        sampler.run([bell()]).result()
        experiment = client.init_experiment("qiskit-haiqu")
        before = {job.id for job in client.list_jobs(experiment.id, limit=1000)}
        request_log.clear()
        faults({"method": "POST", "path": "/run", "action": action, "count": 1})
        job = sampler.run([bell()], shots=300)
        counts = job.result()[0].data.meas.get_counts()
        after = {j.id for j in client.list_jobs(experiment.id, limit=1000)}
    assert request_log.count("POST", "/run") == posts
    assert after - before == {job.job_id()}
    assert sum(counts.values()) == 300


@pytest.fixture(scope="module")
def slow_emulator() -> Iterator[EmulatorServer]:
    settings = EmulatorSettings(api_keys=frozenset({API_KEY}), min_job_seconds=3.0)
    with EmulatorServer(settings) as server:
        yield server


def test_timeout_leaves_the_job_running_and_says_how_to_fetch_it(slow_emulator):
    with HaiquClient(url=slow_emulator.url, api_key=API_KEY) as client:
        job = HaiquSampler("aer_simulator", client=client).run([bell()])
        with pytest.raises(JobTimeoutError) as info:
            job.result(timeout=0.3)
        assert job.job_id() in str(info.value)
        assert ".job(" in str(info.value)
        assert job.status() in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.INITIALIZING)
        assert job.result(timeout=30)[0].data.meas.num_shots == 1024


def test_cancel_an_unfinished_job(slow_emulator):
    with HaiquClient(url=slow_emulator.url, api_key=API_KEY) as client:
        job = HaiquSampler("aer_simulator", client=client).run([bell()])
        assert job.cancel() is True
        assert job.cancelled()
        with pytest.raises(JobCancelledError, match="cancelled"):
            job.result()
        assert job.cancel() is False  # already final: nothing to do


def test_cancel_from_elsewhere_is_reported(slow_emulator):
    with HaiquClient(url=slow_emulator.url, api_key=API_KEY) as client:
        job = HaiquSampler("aer_simulator", client=client).run([bell()])
        client.cancel_job(job.job_id())  # e.g. from the dashboard or another process
        with pytest.raises(JobCancelledError):
            job.result(timeout=30)


def test_server_that_does_not_answer(emulator):
    with HaiquClient(
        url=emulator.url,
        api_key=API_KEY,
        timeout=0.5,
        retry=RetryPolicy(max_attempts=2, sleep=Waits()),
    ) as client:
        plain_http.post(
            f"{emulator.url}/_emulator/faults",
            json=[
                {"method": "GET", "path": "/devices", "action": "delay", "delay": 2.0, "count": 2}
            ],
        ).raise_for_status()
        try:
            with pytest.raises(HaiquConnectionError, match="timed out"):
                client.list_devices()
        finally:
            plain_http.delete(f"{emulator.url}/_emulator/faults")


def test_many_threads_share_one_client(emulator):
    results: list[int] = []
    errors: list[BaseException] = []
    with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
        sampler = HaiquSampler("aer_simulator", client=client)

        def work() -> None:
            try:
                for _ in range(5):
                    counts = sampler.run([bell()], shots=64).result()[0].data.meas.get_counts()
                    results.append(sum(counts.values()))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    assert results == [64] * 40


def test_polling_backs_off_over_a_long_job(slow_emulator):
    """A 3 s job is polled a dozen times or so (geometric back-off), not hundreds."""
    plain_http.delete(f"{slow_emulator.url}/_emulator/requests").raise_for_status()
    with HaiquClient(url=slow_emulator.url, api_key=API_KEY) as client:
        HaiquSampler("aer_simulator", client=client).run([bell()]).result()  # one 3 s job
        log = plain_http.get(f"{slow_emulator.url}/_emulator/requests").json()
    polls = [entry for entry in log if entry["path"].startswith("/jobs/")]
    assert 1 <= len(polls) <= 20


def test_a_split_run_refused_part_way_cancels_what_it_submitted(slow_emulator):
    """Two shot counts make two jobs; the second is refused, so the first is cancelled."""
    too_wide = QuantumCircuit(30)
    too_wide.h(0)
    too_wide.measure_all()
    with HaiquClient(url=slow_emulator.url, api_key=API_KEY) as client:
        sampler = HaiquSampler("aer_simulator", client=client)
        with pytest.raises(InvalidRequestError, match="already submitted were cancelled") as info:
            sampler.run([(bell(), None, 100), (too_wide, None, 200)])
        first = info.value.message.split("cancelled: ")[1].split(" ")[0]
        assert client.get_job(first).status == "Cancelled"


LISTING = r"^/experiments/[^/]+/jobs$"


def _job_ids(client: HaiquClient, experiment_id: str) -> set[str]:
    return {job.id for job in client.list_jobs(experiment_id, limit=1000)}


def _warm(client: HaiquClient) -> tuple[HaiquSampler, str]:
    """A sampler whose experiment, device and Bell circuit are known; the experiment id."""
    sampler = HaiquSampler("aer_simulator", client=client)
    sampler.run([bell()]).result()
    return sampler, client.init_experiment("qiskit-haiqu").id


def test_garbled_run_reply_is_resolved_by_its_token(emulator, faults, request_log, caplog):
    with _client(emulator.url, Waits()) as client:
        sampler, experiment_id = _warm(client)
        before = _job_ids(client, experiment_id)
        request_log.clear()
        faults({"method": "POST", "path": "^/run$", "action": "garble"})
        job = sampler.run([bell()], shots=300)
        counts = job.result()[0].data.meas.get_counts()
        after = _job_ids(client, experiment_id)
    assert sum(counts.values()) == 300
    assert after - before == {job.job_id()}
    assert request_log.count("POST", "/run") == 1
    assert request_log.count("GET", f"/experiments/{experiment_id}/jobs") == 2  # search + ours
    assert "looking for the job it created" in caplog.text


def test_odd_run_reply_after_the_job_was_created_still_gives_the_job(
    emulator, faults, request_log, caplog
):
    odd = {
        "estimated_qpu_cost": {
            "native": {"amount": None, "unit": "s"},
            "converted": {"amount": 0.2, "unit": "USD", "exchange": "daily"},
        },
        "quality": "pending",
        "shots": None,
    }
    with _client(emulator.url, Waits()) as client:
        sampler, experiment_id = _warm(client)
        before = _job_ids(client, experiment_id)
        request_log.clear()
        faults({"method": "POST", "path": "^/run$", "action": "patch", "patch": odd})
        with caplog.at_level(logging.WARNING, logger="qiskit_haiqu"):
            job = sampler.run([bell()], shots=300)
        counts = job.result()[0].data.meas.get_counts()
        after = _job_ids(client, experiment_id)
    assert sum(counts.values()) == 300
    assert after - before == {job.job_id()}
    assert request_log.count("POST", "/run") == 1
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "quality" in warning
    assert "shots" in warning
    assert "estimated_qpu_cost" not in warning  # free-form: nothing odd about it


def test_lost_run_reply_while_the_listing_fails_for_a_while(emulator, faults, request_log):
    waits = Waits()
    with _client(emulator.url, waits) as client:
        sampler, experiment_id = _warm(client)
        before = _job_ids(client, experiment_id)
        request_log.clear()
        faults(
            {"method": "POST", "path": "^/run$", "action": "drop_after"},
            {"method": "GET", "path": LISTING, "action": "status", "status": 503, "count": 7},
        )
        job = sampler.run([bell()], shots=300)
        counts = job.result()[0].data.meas.get_counts()
        after = _job_ids(client, experiment_id)
    assert sum(counts.values()) == 300
    assert after - before == {job.job_id()}
    assert request_log.count("POST", "/run") == 1
    searches = [e["status"] for e in request_log.entries() if e["path"].endswith("/jobs")]
    assert searches[:8] == [503] * 7 + [200]  # a second search after the first gave up


def test_lost_run_reply_and_a_listing_that_stays_down_names_the_token(
    emulator, faults, request_log
):
    waits = Waits()
    with _client(emulator.url, waits, max_search_wait=5.0) as client:
        sampler, experiment_id = _warm(client)
        before = _job_ids(client, experiment_id)
        request_log.clear()
        faults(
            {"method": "POST", "path": "^/run$", "action": "drop_after"},
            {"method": "GET", "path": LISTING, "action": "status", "status": 503, "count": 1000},
        )
        with pytest.raises(HaiquConnectionError) as info:
            sampler.run([bell()], shots=300)
        searches = request_log.count("GET", f"/experiments/{experiment_id}/jobs")
        plain_http.delete(f"{emulator.url}/_emulator/faults").raise_for_status()
        created = _job_ids(client, experiment_id) - before
        assert len(created) == 1
        described = client.get_job(created.pop()).description or ""
    error = info.value
    message = str(error)
    assert error.submission_token.startswith("[qh:")
    assert error.submission_token in message
    assert error.submission_token in described  # the token does find the job
    assert f"client.list_jobs({experiment_id!r})" in message
    assert "bill it twice" in message
    assert "reply was lost" in message
    assert request_log.count("POST", "/run") == 1  # never resubmitted
    # bounded: searches of five attempts each, 0.5, 1 and 2 s apart; a 4 s pause would pass
    # the 5 s budget, so there are four
    assert searches == 4 * 5


def _fresh_bell() -> QuantumCircuit:
    """A Bell circuit no other test has uploaded (a phase no one else uses)."""
    circuit = QuantumCircuit(2, name="fresh-bell")
    circuit.h(0)
    circuit.rz(0.1 + uuid.uuid4().int % 10**6 / 10**7, 0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return circuit


def _circuit_count(url: str, experiment_id: str) -> int:
    response = plain_http.get(
        f"{url}/experiments/{experiment_id}/circuits", headers={"authorization": API_KEY}
    )
    response.raise_for_status()
    return len(response.json())


@pytest.mark.parametrize(
    ("action", "posts"),
    [
        ("drop_after", 1),  # stored, reply lost: found by its hash
        ("garble", 1),  # stored, reply unreadable: found by its hash
        ("drop", 2),  # never reached the handler: three lookups miss, sent again
    ],
)
def test_lost_circuit_reply_stores_it_once(emulator, faults, request_log, action, posts):
    with _client(emulator.url, Waits()) as client:
        sampler, experiment_id = _warm(client)
        before = _circuit_count(emulator.url, experiment_id)
        request_log.clear()
        faults({"method": "POST", "path": "^/circuits$", "action": action})
        counts = sampler.run([_fresh_bell()], shots=100).result()[0].data.meas.get_counts()
        after = _circuit_count(emulator.url, experiment_id)
    assert sum(counts.values()) == 100
    assert after - before == 1
    assert request_log.count("POST", "/circuits") == posts
    assert request_log.count("POST", "/run") == 1


@pytest.fixture(scope="module")
def racing_emulator() -> Iterator[EmulatorServer]:
    """Jobs take a second; faults can hold a cancel back until the job has finished."""
    settings = EmulatorSettings(
        api_keys=frozenset({API_KEY}), min_job_seconds=1.0, enable_faults=True
    )
    with EmulatorServer(settings) as server:
        yield server


def test_a_job_that_finishes_while_its_cancel_is_in_flight_keeps_its_results(
    racing_emulator,
):
    url = racing_emulator.url
    with HaiquClient(url=url, api_key=API_KEY) as client:
        job = HaiquSampler("aer_simulator", client=client).run([bell()], shots=200)
        hold = {"method": "POST", "path": "^/jobs/[^/]+/cancel$", "action": "delay", "delay": 3}
        plain_http.post(f"{url}/_emulator/faults", json=[hold]).raise_for_status()
        try:
            assert job.cancel() is False  # the service answered with the finished job
        finally:
            plain_http.delete(f"{url}/_emulator/faults").raise_for_status()
        assert job.status() is JobStatus.DONE
        counts = job.result()[0].data.meas.get_counts()
    assert sum(counts.values()) == 200
    assert set(counts) <= {"00", "11"}


def _job_json(status: str, results: list[Any] | None = None) -> dict[str, Any]:
    return {**RUN_JOB, "id": "jb-1", "status": status, "quantum_results": results}


@pytest.mark.parametrize("final", ["Done", "Cancelled"])
def test_a_cancel_reply_with_only_the_common_fields_never_replaces_the_run_job(final):
    """The SDK's cancel reply is a BaseJob: the handle reads the full job again."""
    full = _job_json(final, [{"0": 1.0}] if final == "Done" else None)
    common = {k: full[k] for k in ("id", "user_id", "experiment_id", "status", "job_type")}
    answers = iter([_job_json("Running"), full])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/cancel"):
            return httpx.Response(200, json={**common, "creation_date": full["creation_date"]})
        return httpx.Response(200, json=next(answers))

    client = HaiquClient(url="https://x.test", api_key="k", transport=httpx.MockTransport(handler))

    def decode(jobs: list[RunJob]) -> PrimitiveResult[Any]:
        return PrimitiveResult([], metadata={"results": [job.quantum_results for job in jobs]})

    job = HaiquJob(client, [RunJob.model_validate(_job_json("Queued"))], decode)
    assert job.cancel() is (final == "Cancelled")
    if final == "Done":
        assert job.result().metadata["results"] == [[{"0": 1.0}]]
    else:
        with pytest.raises(JobCancelledError):
            job.result()
