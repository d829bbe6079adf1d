"""Load: many jobs from many threads through one client, and very large runs."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from qiskit.circuit import Parameter, QuantumCircuit

from qiskit_haiqu import HaiquClient, HaiquEstimator, HaiquSampler

API_KEY = "test-key-123"


def _x_on(qubit: int) -> QuantumCircuit:
    qc = QuantumCircuit(3)
    qc.x(qubit)
    qc.measure_all()
    return qc


def test_200_jobs_from_8_threads_through_one_client(emulator, request_log):
    with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
        sampler = HaiquSampler("aer_simulator", client=client)
        estimator = HaiquEstimator("aer_simulator", client=client)
        theta = Parameter("load_theta")
        ry = QuantumCircuit(1)
        ry.ry(theta, 0)

        def one(k: int) -> bool:
            if k % 2:
                counts = sampler.run([_x_on(k % 3)], shots=32).result()[0].data.meas.get_counts()
                return counts == {format(1 << (k % 3), "03b"): 32}
            value = float(estimator.run([(ry, "Z", [np.pi * (k % 4 == 0)])]).result()[0].data.evs)
            return abs(value - (-1.0 if k % 4 == 0 else 1.0)) < 1e-9

        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(one, range(200)))
        pool_size = len(client._http._transport._pool.connections)  # type: ignore[attr-defined]
    assert all(outcomes)
    assert pool_size <= 32
    runs = [e for e in request_log.entries() if e["path"] == "/run"]
    assert len(runs) == 200
    # nothing dropped or failed (404s are the circuit look-ups before the first uploads)
    assert {e["status"] for e in request_log.entries()} <= {200, 404}


def test_one_run_with_1000_pubs_split_and_reassembled_in_order(client, request_log):
    circuits = [_x_on(k % 3) for k in range(1000)]
    sampler = HaiquSampler("aer_simulator", client=client, options={"max_circuits_per_job": 400})
    result = sampler.run(circuits, shots=4).result()
    assert len(result) == 1000
    for k, pub_result in enumerate(result):
        assert pub_result.data.meas.get_counts() == {format(1 << (k % 3), "03b"): 4}
    assert len(result.metadata["haiqu_job_ids"]) == 3  # 400 + 400 + 200
    assert request_log.count("POST", "/run") == 3
    assert request_log.count("POST", "/circuits") <= 3


def test_one_pub_with_10000_parameter_rows(client):
    theta = Parameter("rows_theta")
    qc = QuantumCircuit(1)
    qc.rx(theta, 0)
    qc.measure_all()
    values = np.where(np.arange(10_000) % 2 == 0, 0.0, np.pi)
    result = HaiquSampler("aer_simulator", client=client).run([(qc, values)], shots=8).result()[0]
    assert result.data.meas.shape == (10_000,)
    ones = result.data.meas.bitcount().sum(axis=-1)
    np.testing.assert_array_equal(ones, np.where(np.arange(10_000) % 2 == 0, 0, 8))


def test_16_threads_with_5_circuits_upload_each_once_and_init_once(emulator, request_log):
    """Concurrent first uses of one circuit or experiment wait for one request in flight."""
    import sys
    import threading
    import uuid

    circuits = [_x_on(q % 3) for q in range(3)]
    for angle in (0.25, 0.5):
        qc = QuantumCircuit(3)
        qc.rx(angle, 0)
        qc.measure_all()
        circuits.append(qc)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often: races show up if there are any
    try:
        with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
            sampler = HaiquSampler(
                "aer_simulator", client=client, options={"experiment_name": uuid.uuid4().hex}
            )
            start = threading.Barrier(16)

            def one(k: int) -> int:
                start.wait()
                return sampler.run([circuits[k % 5]], shots=8).result()[0].data.meas.num_shots

            with ThreadPoolExecutor(16) as pool:
                shots = list(pool.map(one, range(16)))
    finally:
        sys.setswitchinterval(interval)
    assert shots == [8] * 16
    assert request_log.count("POST", "/experiments/init") == 1
    assert request_log.count("GET", "/devices/") == 1
    assert request_log.count("POST", "/circuits") == 5
    assert request_log.count("POST", "/run") == 16
