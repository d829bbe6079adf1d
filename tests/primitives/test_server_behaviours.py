"""The same answers whatever plausible behaviour the service has (haiqu-api.md §15 Q2, Q8).

Each test runs against emulators switched to each behaviour: result keys as Qiskit's
``get_counts`` writes them (the default), the full clbit string, or hex; a server that
honours a layout carried by an uploaded circuit, or ignores it. Qiskit's reference
primitives are the oracle.
"""

from __future__ import annotations

import numpy as np
import pytest
from circuit_mutations import MUTATIONS
from qiskit.circuit import ClassicalRegister, Clbit, QuantumCircuit, QuantumRegister
from qiskit.primitives import StatevectorSampler
from qiskit.providers.fake_provider import GenericBackendV2
from qiskit.quantum_info import SparsePauliOp, Statevector
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer.primitives import SamplerV2 as AerSampler

from qiskit_haiqu import HaiquEstimator, HaiquSampler

KEY_FORMATS = ["get_counts", "full", "hex"]


def _layouts() -> list[QuantumCircuit]:
    """Every register layout the old decoder or the emulator got wrong, deterministic."""
    circuits = []
    # a loose clbit after the register (get_counts leaves it out)
    qc = QuantumCircuit(QuantumRegister(2, "q"), ClassicalRegister(2, "c"), [Clbit()])
    qc.x([0, 1])
    qc.measure([0, 1], [0, 1])
    circuits.append(qc)
    # a loose clbit before the register
    qc = QuantumCircuit(QuantumRegister(2, "q"), [Clbit()], ClassicalRegister(2, "c"))
    qc.x(0)
    qc.measure([0, 1], [1, 2])
    qc.measure(0, 0)
    circuits.append(qc)
    # a loose clbit between two registers
    c, d = ClassicalRegister(2, "c"), ClassicalRegister(1, "d")
    qc = QuantumCircuit(QuantumRegister(2, "q"), c, [Clbit()], d)
    qc.x(0)
    qc.measure(0, c[0])
    qc.measure(1, c[1])
    qc.measure(0, d[0])
    circuits.append(qc)
    # a register covering only some clbits, and overlapping registers
    bits = [Clbit() for _ in range(4)]
    qc = QuantumCircuit(QuantumRegister(4, "q"), bits)
    qc.add_register(ClassicalRegister(name="low", bits=bits[:2]))
    qc.add_register(ClassicalRegister(name="mid", bits=bits[1:3]))
    qc.x([1, 2])
    qc.measure(range(4), range(4))
    circuits.append(qc)
    # registers in reverse clbit order, and a zero-width one
    bits = [Clbit() for _ in range(3)]
    qc = QuantumCircuit(QuantumRegister(3, "q"), bits)
    qc.add_register(ClassicalRegister(name="hi", bits=[bits[2]]))
    qc.add_register(ClassicalRegister(0, "none"))
    qc.add_register(ClassicalRegister(name="lo", bits=bits[:2]))
    qc.x([0, 2])
    qc.measure(range(3), range(3))
    circuits.append(qc)
    return circuits


def _counts(result, name):
    array = result.data[name]
    return array.get_counts() if array.num_bits else {"": array.num_shots}


@pytest.mark.parametrize("key_format", KEY_FORMATS)
def test_every_register_layout_agrees_with_statevector_sampler(emulators, key_format):
    circuits = _layouts()
    with emulators.client(key_format=key_format) as client:
        ours = HaiquSampler("aer_simulator", client=client).run(circuits, shots=32).result()
    reference = StatevectorSampler().run(circuits, shots=32).result()
    for index, (mine, theirs) in enumerate(zip(ours, reference, strict=True)):
        assert list(mine.data.keys()) == list(theirs.data.keys()), index
        for name in theirs.data:
            assert mine.data[name].array.shape == theirs.data[name].array.shape, (index, name)
            assert _counts(mine, name) == _counts(theirs, name), (index, name)


@pytest.mark.parametrize("key_format", KEY_FORMATS)
def test_reattached_jobs_decode_the_same_layouts(emulators, key_format):
    circuits = _layouts()
    with emulators.client(key_format=key_format) as client:
        job = HaiquSampler("aer_simulator", client=client).run(circuits, shots=16)
        first = job.result()
        again = HaiquSampler("aer_simulator", client=client).job(job.job_id()).result()
    for mine, theirs in zip(again, first, strict=True):
        # QPY writes a zero-width register first, so a stored circuit's order can differ
        assert sorted(mine.data.keys()) == sorted(theirs.data.keys())
        for name in theirs.data:
            assert _counts(mine, name) == _counts(theirs, name)


_SAMPLED = {"if_test value", "switch case", "expr equal / not_equal", "ctrl_state"}


@pytest.mark.parametrize(
    ("build", "a", "b"),
    [m[1:] for m in MUTATIONS if m[0] in _SAMPLED],
    ids=[m[0] for m in MUTATIONS if m[0] in _SAMPLED],
)
def test_a_circuit_never_runs_as_an_earlier_different_one(emulators, build, a, b):
    """B after A, in the same primitive and in a fresh one (which finds circuits by hash).

    Aer's own sampler is the oracle: Qiskit's reference sampler has no control flow.
    """
    first, second = build(a), build(b)
    expected = AerSampler().run([second], shots=64).result()[0]
    with emulators.client() as client:
        sampler = HaiquSampler("aer_simulator", client=client)
        sampler.run([first], shots=64).result()
        same = sampler.run([second], shots=64).result()[0]
        fresh = HaiquSampler("aer_simulator", client=client).run([build(b)], shots=64).result()[0]
    for result in (same, fresh):
        for name in expected.data:
            assert result.data[name].get_counts() == expected.data[name].get_counts()


def test_annotated_power_runs_as_itself(emulators):
    build = dict((m[0], m[1]) for m in MUTATIONS)["annotated power"]
    with emulators.client() as client:
        sampler = HaiquSampler("aer_simulator", client=client)
        assert sampler.run([build(1.0)], shots=200).result()[0].data.meas.get_counts() == {"1": 200}
        half = sampler.run([build(0.5)], shots=400).result()[0].data.meas.get_counts()
    assert 100 < half.get("1", 0) < 300


@pytest.mark.parametrize("upload_layout", ["honour", "ignore"])
def test_transpiled_circuits_give_the_same_values_whatever_the_server_does_with_layouts(
    emulators, upload_layout
):
    qc = QuantumCircuit(3)
    qc.h(0)
    qc.cx(0, 1)
    qc.ry(0.4, 2)
    backend = GenericBackendV2(5, seed=3)
    manager = generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=3)
    isa = manager.run(qc)
    virtual = SparsePauliOp(["ZZI", "XXI", "ZII"], [1.0, 0.5, -0.25])
    observable = virtual.apply_layout(isa.layout)
    exact = Statevector(qc).expectation_value(virtual).real
    with emulators.client(upload_layout=upload_layout) as client:
        estimator = HaiquEstimator("aer_simulator", client=client)
        result = estimator.run([(isa, observable)], precision=0.01).result()[0]
    assert isa.layout is not None  # the user's circuit keeps its layout
    assert abs(float(result.data.evs) - exact) < 5 * max(float(result.data.stds), 0.01)


def test_expectation_values_after_a_reset_come_from_the_whole_mixture(emulators):
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.reset(0)
    with emulators.client() as client:
        estimator = HaiquEstimator("aer_simulator", client=client)
        result = estimator.run([(qc, [SparsePauliOp("ZI")] * 8)], precision=0.02).result()[0]
    evs, stds = np.asarray(result.data.evs), np.asarray(result.data.stds)
    assert np.all(stds > 0.005)  # shot noise of 2500 shots, not certainty
    # Exact 0; one trajectory gives +-1 everywhere. The eight equal observables are one
    # measurement (equal values), so their mean has one estimate's spread, not an eighth
    # of it: 0.05 was 2.5 of its standard deviations (failed about once in 80 runs).
    assert abs(evs.mean()) < 5 * stds.max()
