"""The fingerprint cache never answers for a circuit what its QPY would not.

Attacked with in-place mutations of one circuit object (the case a cache keyed by identity
gets wrong), with the identity suite's pairs, and with random circuits and mutation chains:
after every step the cached answer equals a fresh ``circuit_fingerprint``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from circuit_mutations import MUTATIONS, random_circuits
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit.circuit import (
    ClassicalRegister,
    Gate,
    Parameter,
    QuantumCircuit,
    QuantumRegister,
)
from qiskit.circuit.library import HGate, RZGate, real_amplitudes

from qiskit_haiqu.translate import fingerprint_cache
from qiskit_haiqu.translate.circuits import circuit_fingerprint
from qiskit_haiqu.translate.fingerprint_cache import FingerprintCache, structural_key


def _ansatz() -> QuantumCircuit:
    circuit = real_amplitudes(3, reps=2).decompose()
    circuit.measure_all()
    return circuit


def _append_gate(qc: QuantumCircuit) -> None:
    qc.x(0)


def _assign_in_place(qc: QuantumCircuit) -> None:
    qc.assign_parameters({qc.parameters[0]: 0.5}, inplace=True)


def _phase(qc: QuantumCircuit) -> None:
    qc.global_phase += 0.25


def _first_one_qubit_gate(qc: QuantumCircuit) -> int | None:
    return next(
        (i for i, inst in enumerate(qc.data) if len(inst.qubits) == 1 and not inst.clbits),
        None,
    )


def _replace_gate(qc: QuantumCircuit) -> None:
    index = _first_one_qubit_gate(qc)
    if index is not None:
        swap = HGate() if qc.data[index].operation.name != "h" else RZGate(0.9)
        qc.data[index] = qc.data[index].replace(operation=swap)


def _retarget(qc: QuantumCircuit) -> None:
    index = _first_one_qubit_gate(qc)
    if index is not None:
        current = qc.data[index].qubits[0]
        other = next((q for q in reversed(qc.qubits) if q != current), current)
        qc.data[index] = qc.data[index].replace(qubits=(other,))


def _delete(qc: QuantumCircuit) -> None:
    if qc.data:
        del qc.data[0]


def _label(qc: QuantumCircuit) -> None:
    """Only a label changes: the same gate, now labelled (QPY writes labels)."""
    index = _first_one_qubit_gate(qc)
    if index is not None:
        operation = qc.data[index].operation.to_mutable()
        operation.label = f"{operation.label or ''}tagged"
        qc.data[index] = qc.data[index].replace(operation=operation)


def _new_register(qc: QuantumCircuit) -> None:
    qc.add_register(ClassicalRegister(1, f"extra{len(qc.cregs)}"))


def _custom_gate(qc: QuantumCircuit) -> None:
    gate = Gate("mine", 1, [])
    definition = QuantumCircuit(1)
    definition.rx(0.3, 0)
    gate.definition = definition
    qc.append(gate, [0])


def _rename_parameter(qc: QuantumCircuit) -> None:
    old = qc.parameters[0]
    qc.assign_parameters({old: Parameter("renamed")}, inplace=True)


IN_PLACE: list[Callable[[QuantumCircuit], None]] = [
    _append_gate,
    _assign_in_place,
    _phase,
    _replace_gate,
    _retarget,
    _delete,
    _label,
    _new_register,
    _custom_gate,
    _rename_parameter,
]


@pytest.mark.parametrize("mutate", IN_PLACE, ids=lambda f: f.__name__.strip("_"))
def test_a_circuit_changed_in_place_gets_its_new_fingerprint(mutate):
    cache = FingerprintCache()
    circuit = _ansatz()
    before = cache.fingerprint(circuit)
    assert before == circuit_fingerprint(circuit)
    mutate(circuit)
    after = cache.fingerprint(circuit)
    assert after == circuit_fingerprint(circuit)
    assert after != before


@pytest.mark.parametrize(("name", "build", "a", "b"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_the_identity_pairs_stay_apart_through_one_cache(name, build, a, b):
    cache = FingerprintCache()
    first, second = build(a), build(b)
    assert cache.fingerprint(first) == circuit_fingerprint(first)
    assert cache.fingerprint(second) == circuit_fingerprint(second)
    assert cache.fingerprint(first) != cache.fingerprint(second)


def test_the_same_content_is_fingerprinted_once(monkeypatch):
    computed = []
    real = fingerprint_cache.circuit_fingerprint

    def counting(circuit: QuantumCircuit, *, qpy_version: int = 16) -> str:
        computed.append(circuit)
        return real(circuit, qpy_version=qpy_version)

    monkeypatch.setattr(fingerprint_cache, "circuit_fingerprint", counting)
    cache = FingerprintCache()
    circuit = _ansatz()
    answers = {cache.fingerprint(circuit) for _ in range(5)}
    answers.add(cache.fingerprint(circuit.copy()))  # a copy has the same content
    rebuilt = _ansatz()  # new parameter objects (UUIDs), the same names: the same identity
    answers.add(cache.fingerprint(rebuilt))
    assert len(answers) == 1
    assert len(computed) == 1
    assert real(rebuilt) in answers
    cache.fingerprint(circuit, qpy_version=13)  # another QPY version is another answer
    assert len(computed) == 2


def test_circuits_the_key_cannot_describe_are_never_cached():
    with_custom = QuantumCircuit(1)
    _custom_gate(with_custom)
    theta = Parameter("t")
    with_expression = QuantumCircuit(1)
    with_expression.rz(2 * theta, 0)
    with_control_flow = MUTATIONS[0][1](0)
    for circuit in (with_custom, with_expression, with_control_flow):
        assert structural_key(circuit) is None


def test_a_bounded_cache_drops_the_least_recently_used():
    cache = FingerprintCache(size=2)
    circuits = [QuantumCircuit(QuantumRegister(n + 1)) for n in range(3)]
    for circuit in circuits:
        cache.fingerprint(circuit)
    assert len(cache._known) == 2


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    random_circuits(expressions=False),
    st.lists(st.integers(0, len(IN_PLACE) - 1), min_size=1, max_size=4),
)
def test_random_circuits_through_chains_of_in_place_mutations(qc, steps):
    cache = FingerprintCache()
    assert cache.fingerprint(qc) == circuit_fingerprint(qc)
    for step in steps:
        mutate = IN_PLACE[step]
        if mutate in (_assign_in_place, _rename_parameter) and not qc.parameters:
            continue
        mutate(qc)
        assert cache.fingerprint(qc) == circuit_fingerprint(qc), mutate.__name__
