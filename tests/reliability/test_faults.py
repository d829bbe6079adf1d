"""Fault tolerance against the emulator's fault injection, over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from qiskit.circuit import QuantumCircuit
from qiskit.providers import JobStatus
from shared_circuits import bell

from qiskit_haiqu import (
    HaiquClient,
    HaiquConnectionError,
    HaiquSampler,
    JobCancelledError,
    JobTimeoutError,
    RequestValidationError,
    ServerError,
)
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
        httpx.post(f"{emulator.url}/_emulator/faults", json=list(rules)).raise_for_status()

    yield add
    httpx.delete(f"{emulator.url}/_emulator/faults").raise_for_status()


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
        httpx.post(
            f"{emulator.url}/_emulator/faults",
            json=[
                {"method": "GET", "path": "/devices", "action": "delay", "delay": 2.0, "count": 2}
            ],
        ).raise_for_status()
        try:
            with pytest.raises(HaiquConnectionError, match="timed out"):
                client.list_devices()
        finally:
            httpx.delete(f"{emulator.url}/_emulator/faults")


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
    with HaiquClient(url=slow_emulator.url, api_key=API_KEY) as client:
        sampler = HaiquSampler("aer_simulator", client=client)
        sampler.run([bell()]).result()  # warm: circuit known, device checked
        httpx.delete(f"{slow_emulator.url}/_emulator/requests").raise_for_status()
        sampler.run([bell()]).result()
        log = httpx.get(f"{slow_emulator.url}/_emulator/requests").json()
    polls = [entry for entry in log if entry["path"].startswith("/jobs/")]
    assert 1 <= len(polls) <= 20


def test_a_split_run_refused_part_way_cancels_what_it_submitted(slow_emulator):
    """Two shot counts make two jobs; the second is refused, so the first is cancelled."""
    too_wide = QuantumCircuit(30)
    too_wide.h(0)
    too_wide.measure_all()
    with HaiquClient(url=slow_emulator.url, api_key=API_KEY) as client:
        sampler = HaiquSampler("aer_simulator", client=client)
        with pytest.raises(
            RequestValidationError, match="already submitted were cancelled"
        ) as info:
            sampler.run([(bell(), None, 100), (too_wide, None, 200)])
        first = info.value.message.split("cancelled: ")[1].split(" ")[0]
        assert client.get_job(first).status == "Cancelled"
