"""Jobs travel between processes: submitted in one, collected in another, key never pickled."""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from shared_circuits import bell

from qiskit_haiqu import HaiquClient, HaiquEstimator, HaiquJob, HaiquSampler

API_KEY = "test-key-123"


def _counts(job: HaiquJob) -> dict[str, int]:
    return dict(job.result()[0].data.meas.get_counts())


def _submit_in_worker(url: str, shots: int) -> HaiquJob:
    with HaiquClient(url=url) as client:  # the key comes from this process's environment
        return HaiquSampler("aer_simulator", client=client).run([bell()], shots=shots)


def _ry(angle_name: str = "theta") -> QuantumCircuit:
    qc = QuantumCircuit(1)
    qc.ry(Parameter(angle_name), 0)
    return qc


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    """Two spawned workers with the key in their environment, shared by the module's tests
    (each new worker process imports Qiskit again)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HAIQU_API_KEY", API_KEY)
        context = multiprocessing.get_context("spawn")  # nothing inherited but the environment
        with ProcessPoolExecutor(2, mp_context=context) as executor:
            yield executor


def test_a_job_submitted_here_is_collected_in_another_process(client, pool):
    job = HaiquSampler("aer_simulator", client=client).run([bell()], shots=64)
    counts = pool.submit(_counts, job).result(timeout=120)
    assert sum(counts.values()) == 64
    assert set(counts) <= {"00", "11"}
    assert counts == _counts(job)  # the same samples: the result is the service's


def test_a_job_submitted_in_another_process_is_collected_here(emulator, pool, monkeypatch):
    monkeypatch.setenv("HAIQU_API_KEY", API_KEY)
    job = pool.submit(_submit_in_worker, emulator.url, 32).result(timeout=120)
    assert isinstance(job, HaiquJob)
    assert sum(_counts(job).values()) == 32


def test_estimator_jobs_and_a_sweep_fanned_out_over_a_pool(client, pool):
    estimator = HaiquEstimator("aer_simulator", client=client)
    jobs = [estimator.run([(_ry(), SparsePauliOp("Z"), [[0.0], [3.14159]])]) for _ in range(3)]
    values = list(pool.map(_evs, jobs))
    for evs in values:
        assert evs[0] == pytest.approx(1.0, abs=0.1)
        assert evs[1] == pytest.approx(-1.0, abs=0.1)


def _evs(job: HaiquJob) -> list[float]:
    return [float(v) for v in job.result()[0].data.evs]


def test_the_pickle_holds_no_key(client):
    job = HaiquSampler("aer_simulator", client=client).run([bell()], shots=8)
    data = pickle.dumps(job)
    assert API_KEY.encode() not in data
    assert job.job_id().encode() in data


def test_without_a_key_where_it_is_unpickled_the_error_says_so(client, monkeypatch):
    job = HaiquSampler("aer_simulator", client=client).run([bell()], shots=8)
    data = pickle.dumps(job)
    monkeypatch.delenv("HAIQU_API_KEY", raising=False)
    with pytest.raises(Exception, match="HAIQU_API_KEY"):  # noqa: PT011 - HaiquConfigurationError
        pickle.loads(data)


def test_a_job_answered_locally_pickles_with_its_result(client):
    empty = QuantumCircuit(1)  # no register: nothing is sent
    with pytest.warns(UserWarning, match="no output classical registers"):
        job = HaiquSampler("aer_simulator", client=client).run([empty])
    again = pickle.loads(pickle.dumps(job))
    assert len(again.result()) == 1


def _sample_with(sampler: HaiquSampler) -> int:
    return int(sampler.run([bell()], shots=16).result()[0].data.meas.num_shots)


def test_primitives_pickle_without_key_or_credentials_and_run_in_a_worker(client, pool):
    secret = "ibm-token-never-pickled"
    sampler = HaiquSampler(
        "aer_simulator",
        client=client,
        options={"default_shots": 16, "device_credentials": {"ibm_quantum_token": secret}},
    )
    data = pickle.dumps(sampler)
    assert API_KEY.encode() not in data
    assert secret.encode() not in data
    assert pool.submit(_sample_with, sampler).result(timeout=120) == 16
    estimator = pickle.loads(pickle.dumps(HaiquEstimator("aer_simulator", client=client)))
    assert estimator.options.default_precision == 0.015625
    assert estimator.device_id == "aer_simulator"
