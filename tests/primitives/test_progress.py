"""What a user sees while a job runs: status logging, the progress callback and display."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from qiskit.circuit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from shared_circuits import bell

from qiskit_haiqu import (
    HaiquClient,
    HaiquEstimator,
    HaiquInputError,
    HaiquSampler,
    JobProgress,
    SamplerOptions,
    TerminalProgress,
)
from qiskit_haiqu.emulator import EmulatorServer, EmulatorSettings

API_KEY = "progress-key"
ORDER = ["Submitted", "Queued", "Running", "Done"]


@pytest.fixture(scope="module")
def slow_client() -> Iterator[HaiquClient]:
    """A client on an emulator whose jobs spend 0.6 s in Submitted, Queued and Running."""
    settings = EmulatorSettings(api_keys=frozenset({API_KEY}), min_job_seconds=0.6)
    with EmulatorServer(settings) as server, HaiquClient(url=server.url, api_key=API_KEY) as c:
        yield c


def _assert_moves_forward(snapshots: list[JobProgress]) -> None:
    """Each snapshot is a change, in lifecycle order, ending with one final snapshot."""
    assert snapshots, "the callback was never called"
    assert all(s.changed for s in snapshots)
    for before, after in zip(snapshots, snapshots[1:], strict=False):
        assert before.statuses != after.statuses
        for old, new in zip(before.statuses, after.statuses, strict=True):
            assert ORDER.index(new) >= ORDER.index(old)
        assert after.elapsed >= before.elapsed
        assert after.finished >= before.finished
    assert [s.final for s in snapshots] == [False] * (len(snapshots) - 1) + [True]
    assert snapshots[-1].status == "DONE"


def test_callback_sees_each_status_change_once(slow_client):
    snapshots: list[JobProgress] = []
    # Polls at most 50 ms apart: each status lasts about 0.2 s, so every one is seen (with
    # the default back-off the gaps pass 0.2 s, and a loaded machine could skip Running).
    sampler = HaiquSampler(
        "aer_simulator",
        client=slow_client,
        options={"progress": snapshots.append, "max_poll_interval": 0.05},
    )
    job = sampler.run([bell()], shots=100)
    job.result()
    job.result()  # cached: no further call
    _assert_moves_forward(snapshots)
    seen = {s.statuses[0] for s in snapshots}
    assert "Running" in seen  # polls are frequent enough to see the job running
    assert snapshots[-1].job_id == job.job_id()
    assert snapshots[-1].device_id == "aer_simulator"
    assert snapshots[-1].total == 1


def test_a_split_run_reports_how_many_parts_are_done(slow_client):
    snapshots: list[JobProgress] = []
    sampler = HaiquSampler("aer_simulator", client=slow_client)
    sampler.options.progress = snapshots.append
    job = sampler.run([(bell(), None, 100), (bell(), None, 200)])  # two shot counts: 2 jobs
    job.result()
    _assert_moves_forward(snapshots)
    assert snapshots[-1].total == 2
    assert snapshots[-1].finished == 2
    assert len(snapshots[-1].statuses) == 2


def test_estimator_and_reattached_jobs_report_progress(slow_client):
    first: list[JobProgress] = []
    estimator = HaiquEstimator(
        "aer_simulator", client=slow_client, options={"progress": first.append}
    )
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    job = estimator.run([(circuit, SparsePauliOp("ZZ"))])
    reattached_snapshots: list[JobProgress] = []
    other = HaiquEstimator(
        "aer_simulator", client=slow_client, options={"progress": reattached_snapshots.append}
    )
    reattached = other.job(job.job_id())
    assert reattached.result()[0].data.evs == pytest.approx(1.0)
    job.result()
    _assert_moves_forward(first)
    _assert_moves_forward(reattached_snapshots)


def test_terminal_display_rewrites_one_line_in_a_terminal(slow_client):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    sampler = HaiquSampler(
        "aer_simulator", client=slow_client, options={"progress": TerminalProgress(stream)}
    )
    job = sampler.run([bell()], shots=10)
    job.result()
    text = stream.getvalue()
    assert text.startswith("\r")
    assert text.endswith("\n")
    assert text.count("\n") == 1  # one line, finished at the end
    updates = text.split("\r")[1:]
    assert len(updates) >= 3
    assert f"Haiqu job {job.job_id()} on aer_simulator: DONE" in updates[-1]


def test_terminal_display_writes_a_line_per_change_elsewhere(slow_client):
    stream = io.StringIO()
    sampler = HaiquSampler(
        "aer_simulator", client=slow_client, options={"progress": TerminalProgress(stream)}
    )
    sampler.run([bell()], shots=10).result()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert len(lines) == len(set(lines)) >= 2
    assert ": DONE" in lines[-1]


def test_progress_true_shows_the_job_on_stderr(slow_client, capsys):
    sampler = HaiquSampler("aer_simulator", client=slow_client, options={"progress": True})
    job = sampler.run([bell()], shots=10)
    job.result()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"Haiqu job {job.job_id()} on aer_simulator: DONE" in captured.err


def test_status_changes_are_logged_once_each_at_info(slow_client, caplog):
    caplog.set_level(logging.INFO, logger="qiskit_haiqu")
    job = HaiquSampler("aer_simulator", client=slow_client).run([bell()], shots=10)
    job.result()
    messages = [r.getMessage() for r in caplog.records if job.job_id() in r.getMessage()]
    assert messages[0] == f"Submitted Haiqu job {job.job_id()} to aer_simulator"
    changes = [m for m in messages if " -> " in m]
    assert changes  # at least the final transition is reported
    assert len(changes) == len(set(changes))  # never the same transition twice
    assert changes[-1].endswith("-> Done")
    assert len(changes) <= 3  # Submitted -> Queued -> Running -> Done at most


def test_no_progress_by_default(slow_client, capsys):
    HaiquSampler("aer_simulator", client=slow_client).run([bell()], shots=10).result()
    assert capsys.readouterr().err == ""


def test_the_callback_object_is_shared_not_copied():
    class Collector:
        def __init__(self) -> None:
            self.seen: list[JobProgress] = []

        def __call__(self, progress: JobProgress) -> None:
            self.seen.append(progress)

    collector = Collector()
    options = SamplerOptions(progress=collector)
    sampler = HaiquSampler(
        "aer_simulator", client=HaiquClient(url="http://127.0.0.1:9", api_key="k"), options=options
    )
    assert sampler.options.progress is collector
    assert sampler.options.snapshot().progress is collector


@pytest.mark.parametrize("value", [1, "yes", None])
def test_an_invalid_progress_value_is_refused(value):
    with pytest.raises(HaiquInputError, match="progress"):
        HaiquSampler(
            "aer_simulator",
            client=HaiquClient(url="http://127.0.0.1:9", api_key="k"),
            options={"progress": value},
        )


def test_a_failing_callback_stops_the_wait_but_not_the_job(slow_client):
    def broken(progress: JobProgress) -> None:
        raise RuntimeError("callback bug")

    sampler = HaiquSampler("aer_simulator", client=slow_client, options={"progress": broken})
    job = sampler.run([bell()], shots=10)
    with pytest.raises(RuntimeError, match="callback bug"):
        job.result()
    assert (
        HaiquSampler("aer_simulator", client=slow_client)
        .job(job.job_id())
        .result()[0]
        .data.meas.num_shots
        == 10
    )
