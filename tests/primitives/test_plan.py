"""The plan of a run is made without the network, and read back the same way by decoding."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest
from conftest import API_KEY
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.primitives import PrimitiveResult
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.providers import JobStatus as QiskitJobStatus
from qiskit.quantum_info import SparsePauliOp
from shared_circuits import bell
from wire_samples import RUN_JOB

from qiskit_haiqu import HaiquClient, HaiquEstimator, HaiquJob, HaiquSampler
from qiskit_haiqu.api.models import JobStatus, RunJob
from qiskit_haiqu.errors import JobFailedError
from qiskit_haiqu.primitives.estimator import _prepare
from qiskit_haiqu.primitives.plan import job_members
from qiskit_haiqu.primitives.polling import (
    PollingPolicy,
    RecentDurations,
    combined_status,
    first_poll,
)
from qiskit_haiqu.primitives.sampler import _SamplerPubItem
from qiskit_haiqu.primitives.validation import parameter_rows
from qiskit_haiqu.translate.job_context import read_context


def _offline_client() -> HaiquClient:
    """A client whose every request fails the test: planning must not make one."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"planning made a request: {request.method} {request.url}")

    return HaiquClient(url="https://x.test", api_key="k", transport=httpx.MockTransport(handler))


def _rotation() -> QuantumCircuit:
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.ry(theta, 0)
    return circuit


def _sampler_plan(pubs: list[Any], **options: Any) -> Any:
    sampler = HaiquSampler("aer_simulator", client=_offline_client(), options=options)
    coerced = [SamplerPub.coerce(pub, sampler.options.default_shots) for pub in pubs]
    prepared = [
        _SamplerPubItem(pub, parameter_rows(pub.circuit, pub.parameter_values, i))
        for i, pub in enumerate(coerced)
    ]
    return sampler._plan(prepared, sampler.options)


def test_sampler_plan_groups_by_shots_and_parameterisation_without_a_request():
    pair = bell()
    rotation = _rotation()
    rotation.measure_all()
    no_registers = QuantumCircuit(1)
    plan = _sampler_plan(
        [pair, (pair, None, 10), (rotation, [[0.1], [0.2]]), no_registers, (rotation, [[0.3]])]
    )
    assert [job.members for job in plan.jobs] == [[0], [1], [2, 4]]
    assert [job.shots for job in plan.jobs] == [1024, 10, 1024]
    assert plan.jobs[0].parameters is None
    rows = plan.jobs[2].parameters
    assert [np.asarray(r).tolist() for r in rows] == [[[0.1], [0.2]], [[0.3]]]
    assert read_context(plan.jobs[2].context) == {"kind": "sampler", "shapes": [[2], [1]]}
    assert len(plan.pubs) == 5  # the register-less pub is kept, to be answered locally
    assert plan.circuits() == [pair, pair, rotation, rotation]


def test_sampler_plan_splits_at_max_circuits_per_job():
    plan = _sampler_plan([bell()] * 5, max_circuits_per_job=2)
    assert [job.members for job in plan.jobs] == [[0, 1], [2, 3], [4]]


def test_estimator_plan_asks_for_the_broadcast_pairs_only():
    estimator = HaiquEstimator("aer_simulator", client=_offline_client())
    circuit = _rotation()
    observables = [[SparsePauliOp("Z")], [SparsePauliOp("X")]]  # (2, 1) x (3,) -> (2, 3)
    zipped = EstimatorPub.coerce((circuit, ["Z", "X", "Y"], [[0.1], [0.2], [0.3]]), 0.01)
    outer = EstimatorPub.coerce((circuit, observables, [[0.1], [0.2], [0.3]]), 0.01)
    exact = EstimatorPub.coerce((circuit, "Z", [[0.5]]), 0.0)
    prepared = [_prepare(pub, i, None) for i, pub in enumerate([zipped, outer, exact])]
    plan = estimator._plan(prepared, estimator.options)
    normal, statevector = plan.jobs
    assert normal.members == [0, 1]
    assert statevector.members == [2]
    assert normal.shots == 10_000
    assert normal.run_type == "Run"
    evaluations = sum(
        len(obs) * len(rows)
        for obs, rows in zip(normal.observables or [], normal.parameters or [], strict=True)
    )
    assert evaluations == 3 + 6  # the zip needs 3 pairs, the outer product all 6
    assert sum(normal.entries) == len(normal.circuits)
    assert statevector.run_type == "StatevectorRun"
    assert statevector.context is None
    assert len(statevector.circuits) == 1
    assert not statevector.circuits[0].parameters


def test_job_members_keeps_first_seen_order_and_never_splits_a_pub():
    keys = [(0, "a"), (1, "b"), (2, "a"), (4, "a")]
    assert job_members(keys, [1, 1, 3, 0, 1], limit=2) == [[0], [2], [4], [1]]


def test_polling_policy_waits_first_then_backs_off_to_the_cap():
    delays = PollingPolicy(interval=0.1, max_interval=0.3, first=5.0).delays()
    assert [round(next(delays), 4) for _ in range(5)] == [0.3, 0.1, 0.15, 0.225, 0.3]
    assert next(PollingPolicy(interval=0.2).delays()) == 0.2
    # a quick job timed on the last ones is due any moment: one poll a quarter of it later,
    # then the usual back-off (so a job slower than expected costs few extra polls)
    quick = PollingPolicy(interval=0.01, first=0.02).delays()
    assert [round(next(quick), 5) for _ in range(4)] == [0.02, 0.005, 0.01, 0.015]


def test_the_first_poll_discounts_the_part_of_the_job_that_passed_before_its_reply():
    assert first_poll(None, 0.004) is None  # no job timed yet: the policy's interval
    # the job began about half the POST's round trip before its reply arrived
    assert first_poll(0.010, 0.004) == pytest.approx(1.03 * 0.010 + 0.0005 - 0.002)
    # a slow POST (retried, say) never counts for more than half of the job
    assert first_poll(0.010, 2.0) == pytest.approx(1.03 * 0.010 + 0.0005 - 0.005)
    assert first_poll(0.0, 0.004) == pytest.approx(0.0005)
    assert first_poll(0.010, 0.004, discount=0.0) == pytest.approx(1.03 * 0.010 + 0.0005)


def test_a_first_poll_that_came_too_early_stops_the_discount_until_polls_hit_again():
    durations = RecentDurations()
    assert durations.discount() == 0.5
    durations.record(0.01, first_poll_hit=None)  # no timed first poll: nothing learnt
    assert durations.discount() == 0.5
    durations.record(0.01, first_poll_hit=False)  # a busy service or host: no discount
    assert durations.discount() == 0.0
    for hits in range(1, 7):
        durations.record(0.01, first_poll_hit=True)
        assert durations.discount() == pytest.approx(min(0.5, 0.1 * hits))
    durations.record(0.01, first_poll_hit=False)
    durations.clear()  # forgets what it learnt, as it forgets the durations
    assert (durations.expected(), durations.discount()) == (None, 0.5)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], QiskitJobStatus.DONE),
        ([JobStatus.ERROR, JobStatus.RUNNING], QiskitJobStatus.RUNNING),
        ([JobStatus.CANCELLED, JobStatus.QUEUED], QiskitJobStatus.QUEUED),
        ([JobStatus.ERROR, JobStatus.DONE], QiskitJobStatus.ERROR),
        ([JobStatus.CANCELLED, JobStatus.DONE], QiskitJobStatus.CANCELLED),
        ([JobStatus.ERROR, JobStatus.CANCELLED], QiskitJobStatus.ERROR),
        ([JobStatus.DONE, JobStatus.DONE], QiskitJobStatus.DONE),
    ],
)
def test_a_split_run_is_final_only_when_every_part_is(statuses, expected):
    assert combined_status(statuses) is expected


def test_a_split_run_with_a_failed_part_waits_for_the_rest_then_fails():
    """in_final_state() and result() agree: neither is final while a part still runs."""
    states = {"jb-2": iter(["Running", "Running", "Done"])}

    def handler(request: httpx.Request) -> httpx.Response:
        job_id = request.url.path.rsplit("/", 1)[-1]
        status = next(states[job_id])
        results = [{"0": 1.0}] if status == "Done" else None
        return httpx.Response(
            200, json={**RUN_JOB, "id": job_id, "status": status, "quantum_results": results}
        )

    client = HaiquClient(url="https://x.test", api_key="k", transport=httpx.MockTransport(handler))
    failed = RunJob.model_validate({**RUN_JOB, "id": "jb-1", "status": "Error", "logs": "boom"})
    running = RunJob.model_validate({**RUN_JOB, "id": "jb-2", "status": "Queued"})

    def decode(jobs: list[RunJob]) -> PrimitiveResult[Any]:
        raise AssertionError("a failed run is never decoded")

    job = HaiquJob(client, [failed, running], decode, polling=PollingPolicy(interval=0.001))
    assert job.status() is QiskitJobStatus.RUNNING
    assert not job.in_final_state()
    assert job.status() is QiskitJobStatus.ERROR
    assert job.in_final_state()
    with pytest.raises(JobFailedError, match="boom"):
        job.result()


@pytest.mark.parametrize(("statuses", "hit"), [(["Done"], True), (["Running", "Done"], False)])
def test_a_wait_tells_the_durations_whether_its_timed_first_poll_found_the_job_final(statuses, hit):
    replies = iter(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(replies)
        finished = {"finish_date": "2026-01-01T00:00:00.004Z"} if status == "Done" else {}
        return httpx.Response(
            200,
            json={**RUN_JOB, "id": "jb-1", "status": status, "quantum_results": [], **finished},
        )

    client = HaiquClient(url="https://x.test", api_key="k", transport=httpx.MockTransport(handler))
    durations = RecentDurations()
    durations.record(0.004, first_poll_hit=False)  # from 0: a hit shows as a fifth of the most
    queued = RunJob.model_validate({**RUN_JOB, "id": "jb-1", "status": "Queued"})
    policy = PollingPolicy(interval=0.001, first=0.001)
    job = HaiquJob(
        client, [queued], lambda jobs: PrimitiveResult([]), polling=policy, durations=durations
    )
    job.result()
    assert durations.discount() == pytest.approx(0.1 if hit else 0.0)
    assert durations.expected() == pytest.approx(0.004)


def test_a_primitive_closes_the_client_it_made_and_only_that_one(monkeypatch, emulator_url):
    monkeypatch.setenv("HAIQU_API_URL", emulator_url)
    monkeypatch.setenv("HAIQU_API_KEY", API_KEY)
    with HaiquSampler() as sampler:
        made = sampler.client
        assert sampler.run([bell()]).result()[0].data.meas.num_shots == 1024
    with pytest.raises(RuntimeError, match="closed"):
        made.list_devices()
    with HaiquClient(url=emulator_url, api_key=API_KEY) as given:
        with HaiquEstimator(client=given) as estimator:
            estimator.run([(QuantumCircuit(1), "Z")]).result()
        assert given.list_devices()  # still open: the caller owns it


def test_warnings_point_at_the_callers_line_through_the_template_methods():
    sampler = HaiquSampler("aer_simulator", client=_offline_client())
    with pytest.warns(UserWarning, match="no output classical registers") as record:
        sampler.run([QuantumCircuit(1)])  # answered locally: no request
    assert record[0].filename == __file__
