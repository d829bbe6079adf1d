"""HaiquSampler against the emulator over HTTP, with StatevectorSampler as the oracle."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.circuit import (
    ClassicalRegister,
    Clbit,
    Parameter,
    ParameterVector,
    QuantumCircuit,
    QuantumRegister,
)
from qiskit.primitives import SamplerPubResult, StatevectorSampler
from qiskit.providers import JobStatus
from shared_circuits import bell

from qiskit_haiqu import HaiquInputError, HaiquSampler, JobFailedError


def _counts(result: SamplerPubResult) -> dict[str, dict[str, int]]:
    return {name: result.data[name].get_counts() for name in result.data}


def test_bell_state_statistics(client):
    result = HaiquSampler("aer_simulator", client=client).run([bell()], shots=4000).result()
    counts = result[0].data.meas.get_counts()
    assert set(counts) <= {"00", "11"}
    assert sum(counts.values()) == 4000
    # |fraction - 0.5| within 4 sigma of a fair coin over 4000 shots
    assert abs(counts.get("11", 0) / 4000 - 0.5) < 4 * np.sqrt(0.25 / 4000)
    assert result[0].data.meas.num_shots == 4000
    assert result[0].data.meas.num_bits == 2


def _deterministic_circuits() -> list[QuantumCircuit]:
    two_regs = QuantumCircuit(
        QuantumRegister(3), ClassicalRegister(2, "c1"), ClassicalRegister(1, "c2")
    )
    two_regs.x([0, 2])
    two_regs.measure([0, 1, 2], [0, 1, 2])

    bits = [Clbit() for _ in range(4)]
    scattered = QuantumCircuit(QuantumRegister(4), bits)
    scattered.add_register(ClassicalRegister(name="even", bits=[bits[0], bits[2]]))
    scattered.add_register(ClassicalRegister(name="odd", bits=[bits[3], bits[1]]))
    scattered.x([0, 3])
    scattered.measure(range(4), range(4))

    shared = [Clbit() for _ in range(2)]
    overlap = QuantumCircuit(QuantumRegister(2), shared)
    overlap.add_register(ClassicalRegister(name="all", bits=shared))
    overlap.add_register(ClassicalRegister(name="hi", bits=[shared[1]]))
    overlap.x(1)
    overlap.measure([0, 1], [0, 1])

    wide = QuantumCircuit(10, 10)
    wide.x([0, 9])
    wide.measure(range(10), range(10))

    unwritten = QuantumCircuit(
        QuantumRegister(1), ClassicalRegister(1, "m"), ClassicalRegister(3, "z")
    )
    unwritten.x(0)
    unwritten.measure(0, 0)
    return [two_regs, scattered, overlap, wide, unwritten]


@pytest.mark.parametrize("key_format", ["get_counts", "full", "hex"])
def test_registers_match_statevector_sampler(emulators, key_format):
    circuits = _deterministic_circuits()
    with emulators.client(key_format=key_format) as client:
        ours = HaiquSampler("aer_simulator", client=client).run(circuits, shots=64).result()
    reference = StatevectorSampler().run(circuits, shots=64).result()
    for mine, theirs in zip(ours, reference, strict=True):
        assert list(mine.data.keys()) == list(theirs.data.keys())
        assert _counts(mine) == _counts(theirs)
        for name in theirs.data:
            assert mine.data[name].num_bits == theirs.data[name].num_bits
            assert mine.data[name].array.shape == theirs.data[name].array.shape
    assert _counts(ours[1]) == {"even": {"01": 64}, "odd": {"01": 64}}
    assert ours[3].data.c.get_counts() == {"1000000001": 64}


def test_mid_circuit_measurement(client):
    qc = QuantumCircuit(
        QuantumRegister(1), ClassicalRegister(1, "first"), ClassicalRegister(1, "second")
    )
    qc.x(0)
    qc.measure(0, 0)
    qc.x(0)
    qc.measure(0, 1)
    result = HaiquSampler("aer_simulator", client=client).run([qc], shots=50).result()[0]
    assert result.data.first.get_counts() == {"1": 50}
    assert result.data.second.get_counts() == {"0": 50}


def _flip_circuit(prefix: str = "") -> tuple[QuantumCircuit, list[Parameter]]:
    a, b = Parameter(f"{prefix}a"), Parameter(f"{prefix}b")
    qc = QuantumCircuit(2)
    qc.rx(a, 0)
    qc.rx(b, 1)
    qc.measure_all()
    return qc, [a, b]


@pytest.mark.parametrize(
    "values",
    [
        np.array([np.pi, 0.0]),
        np.array([[np.pi, 0.0], [0.0, np.pi], [np.pi, np.pi]]),
        np.zeros((2, 3, 2)) + np.array([0.0, np.pi]),
    ],
)
def test_parameter_shapes_follow_the_pub(client, values):
    qc, _ = _flip_circuit()
    ours = HaiquSampler("aer_simulator", client=client).run([(qc, values)], shots=20).result()[0]
    reference = StatevectorSampler().run([(qc, values)], shots=20).result()[0]
    assert ours.data.meas.shape == reference.data.meas.shape == values.shape[:-1]
    assert ours.data.shape == values.shape[:-1]
    for index in np.ndindex(values.shape[:-1]):
        assert ours.data.meas[index].get_counts() == reference.data.meas[index].get_counts()


def test_values_keyed_by_name_in_any_order(client):
    qc, (a, b) = _flip_circuit()
    values = {b: [np.pi, 0.0], a: [0.0, 0.0]}
    ours = HaiquSampler("aer_simulator", client=client).run([(qc, values)], shots=10).result()[0]
    assert ours.data.meas[0].get_counts() == {"10": 10}
    assert ours.data.meas[1].get_counts() == {"00": 10}


def test_parameter_vector_order_beyond_ten(client):
    theta = ParameterVector("t", 12)
    qc = QuantumCircuit(12)
    for i in range(12):
        qc.rx(theta[i], i)
    qc.measure_all()
    values = np.zeros(12)
    values[10] = np.pi  # t[10] sorts after t[9], before t[2] by name; must flip qubit 10
    ours = HaiquSampler("aer_simulator", client=client).run([(qc, values)], shots=8).result()[0]
    assert ours.data.meas.get_counts() == {"0" + "1" + "0" * 10: 8}


def test_shots_priority_and_metadata(client):
    qc = bell()
    qc.metadata = {"tag": "bell"}
    sampler = HaiquSampler("aer_simulator", client=client, options={"default_shots": 33})
    result = sampler.run([(qc, None, 10), qc], shots=20).result()
    assert [r.data.meas.num_shots for r in result] == [10, 20]
    assert [r.metadata["shots"] for r in result] == [10, 20]
    assert result[0].metadata["circuit_metadata"] == {"tag": "bell"}
    assert result[0].metadata["haiqu_job_id"].startswith("jb-")
    assert result.metadata["version"] == 2
    assert result.metadata["device_id"] == "aer_simulator"
    assert len(result.metadata["haiqu_job_ids"]) == 2  # two shot counts -> two jobs
    assert sampler.run([qc]).result()[0].data.meas.num_shots == 33


def test_mitigated_quasi_probabilities(client):
    # Readout mitigation on a noisy device gives quasi-probabilities (not whole counts).
    sampler = HaiquSampler("fake_manila", client=client, options={"use_mitigation": True})
    with pytest.warns(UserWarning, match="quasi-probabilities"):
        result = sampler.run([bell()], shots=1000).result()[0]
    counts = result.data.meas.get_counts()
    assert sum(counts.values()) == 1000
    assert all(v > 0 for v in counts.values())
    assert result.metadata["quasi_dists"]
    assert result.metadata["counts_method"]


def test_second_run_uploads_nothing_and_posts_one_run(client, request_log):
    qc, _ = _flip_circuit(prefix="fresh_")  # a circuit no earlier test stored
    sampler = HaiquSampler("aer_simulator", client=client)
    sampler.run([(qc, [0.0, 0.0])]).result()
    assert request_log.count("POST", "/circuits") == 1
    request_log.clear()
    for _ in range(3):
        sampler.run([(qc, [np.pi, 0.0]), (qc, [0.0, np.pi])]).result()
    calls = request_log.api_calls()
    assert ("POST", "/run") in calls
    assert sum(1 for c in calls if c == ("POST", "/run")) == 3
    assert not [c for c in calls if c[1].startswith(("/circuits", "/experiments", "/devices"))]


def test_a_second_sampler_reuses_the_stored_circuit(client, request_log):
    qc, _ = _flip_circuit()
    HaiquSampler("aer_simulator", client=client).run([(qc, [0.0, 0.0])]).result()
    request_log.clear()
    HaiquSampler("aer_simulator", client=client).run([(qc, [0.0, 0.0])]).result()
    assert request_log.count("POST", "/circuits") == 0


def test_no_classical_registers_warns_and_is_empty(client):
    qc = QuantumCircuit(1)
    qc.h(0)
    with pytest.warns(UserWarning, match="no output classical registers"):
        job = HaiquSampler("aer_simulator", client=client).run([qc, bell()])
    result = job.result()
    assert len(result[0].data) == 0
    assert result[0].data.shape == ()
    assert result[1].data.meas.num_shots == 1024


def test_empty_run_makes_no_request(client, request_log):
    result = HaiquSampler("aer_simulator", client=client).run([]).result()
    assert len(result) == 0
    assert result.metadata["version"] == 2
    assert request_log.api_calls() == []


@pytest.mark.parametrize(
    ("pub", "error"),
    [
        ((QuantumCircuit(1, 1), None, 0), ValueError),
        ((QuantumCircuit(1, 1), None, -3), ValueError),
        ((QuantumCircuit(1, 1), None, 1.5), TypeError),
    ],
)
def test_invalid_shots_refused_before_any_request(client, request_log, pub, error):
    with pytest.raises(error, match="shots"):
        HaiquSampler("aer_simulator", client=client).run([pub])
    assert request_log.api_calls() == []


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("keys", ValueError),
        ("_data", ValueError),
        ("_shape", ValueError),
        ("shape", TypeError),
        ("__class__", TypeError),
    ],
)
def test_register_names_databin_refuses_are_refused_before_any_request(
    client, request_log, name, error
):
    qc = QuantumCircuit(QuantumRegister(1), ClassicalRegister(1, name))
    qc.measure(0, 0)
    with pytest.raises(error):  # what StatevectorSampler raises, but after running
        StatevectorSampler().run([qc]).result()
    with pytest.raises(error, match=name):
        HaiquSampler("aer_simulator", client=client).run([qc])
    assert request_log.api_calls() == []


def test_register_names_and_widths_the_reference_accepts_agree_with_it(client):
    """Non-identifier names and zero-width registers (Qiskit's issue 12043) are accepted."""
    qc = QuantumCircuit(
        QuantumRegister(2),
        ClassicalRegister(1, "my-reg"),
        ClassicalRegister(0, "z"),
        ClassicalRegister(1, "if"),
    )
    qc.x(0)
    qc.measure([0, 1], [0, 1])
    ours = HaiquSampler("aer_simulator", client=client).run([qc], shots=16).result()[0].data
    ref = StatevectorSampler().run([qc], shots=16).result()[0].data
    for name in ("my-reg", "z", "if"):
        assert ours[name].num_bits == ref[name].num_bits
        assert ours[name].array.shape == ref[name].array.shape
    # (BitArray.get_counts itself fails on a zero-width register, Qiskit's as ours)
    for name in ("my-reg", "if"):
        assert ours[name].get_counts() == ref[name].get_counts()


def test_wrong_parameter_count_and_nan_refused(client, request_log):
    qc, _ = _flip_circuit()
    sampler = HaiquSampler("aer_simulator", client=client)
    with pytest.raises(ValueError, match="inconsistent"):
        sampler.run([(qc, [1.0, 2.0, 3.0])])
    with pytest.raises(HaiquInputError, match="non-finite"):
        sampler.run([(qc, [np.nan, 0.0])])
    assert request_log.api_calls() == []


def test_job_handle(client):
    job = HaiquSampler("aer_simulator", client=client).run([bell()])
    assert job.job_id().startswith("jb-")
    result = job.result()
    assert job.status() is JobStatus.DONE
    assert job.done()
    assert job.in_final_state()
    assert not job.running()
    assert not job.cancelled()
    assert job.result() is result
    assert job.job_id() in repr(job)


def test_failed_job_raises_with_server_logs(client):
    sampler = HaiquSampler(
        "aer_simulator", client=client, options={"device_options": {"method": "no_such_method"}}
    )
    job = sampler.run([bell()])
    with pytest.raises(JobFailedError) as info:
        job.result(timeout=60)
    assert job.job_id() in str(info.value)
    assert info.value.logs
    assert job.status() is JobStatus.ERROR
    assert job.error_message()


def test_unknown_device_refused_before_upload(client, request_log):
    with pytest.raises(HaiquInputError, match="aer_simulator"):
        HaiquSampler("no_such_device", client=client).run([bell()])
    assert request_log.count("POST", "/circuits") == 0
    assert request_log.count("POST", "/run") == 0


def test_dry_run_reports_estimated_cost(client):
    sampler = HaiquSampler("aer_simulator", client=client, options={"dry_run": True})
    result = sampler.run([bell()]).result()
    assert result.metadata["dry_run"] is True
    assert result.metadata["estimated_qpu_cost"]
    assert result[0].metadata["dry_run"] is True


def test_seeded_runs_are_reproducible(client):
    sampler = HaiquSampler(
        "aer_simulator", client=client, options={"device_options": {"seed_simulator": 7}}
    )
    qc = QuantumCircuit(3)
    qc.h(range(3))
    qc.measure_all()
    first = sampler.run([qc], shots=200).result()[0].data.meas.get_counts()
    second = sampler.run([qc], shots=200).result()[0].data.meas.get_counts()
    assert first == second
