"""Circuit identity: circuits that can give different results never share a fingerprint.

Every pair in ``MUTATIONS`` is two circuits that differ in something the old, hand-picked
fingerprint ignored (each ran as the other end to end); equal circuits built twice, in this
process or another, must keep sharing one so loops upload once.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from circuit_mutations import MUTATIONS, _if_on, _loose_clbit, random_circuits
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit.circuit import (
    ClassicalRegister,
    Gate,
    ParameterVector,
    QuantumCircuit,
    QuantumRegister,
)
from qiskit.circuit.library import XGate

from qiskit_haiqu.translate.circuits import (
    CLBITS_REGISTER,
    circuit_fingerprint,
    register_layout,
    stored_view,
    wire_circuit,
)


@pytest.mark.parametrize(
    ("build", "a", "b"), [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS]
)
def test_circuits_that_differ_never_share_a_fingerprint(build, a, b):
    assert circuit_fingerprint(build(a)) != circuit_fingerprint(build(b))
    # ...and the same circuit built twice (new Parameter and Var UUIDs) always matches
    assert circuit_fingerprint(build(a)) == circuit_fingerprint(build(a))


def test_box_and_annotations_count_where_qiskit_has_them():
    qc = QuantumCircuit(1)
    if not hasattr(qc, "box"):
        pytest.skip("this Qiskit has no box")

    def boxed(angle: float) -> QuantumCircuit:
        circuit = QuantumCircuit(1)
        with circuit.box():
            circuit.rx(angle, 0)
        circuit.measure_all()
        return circuit

    assert circuit_fingerprint(boxed(0.1)) != circuit_fingerprint(boxed(0.2))
    assert circuit_fingerprint(boxed(0.1)) == circuit_fingerprint(boxed(0.1))


def test_parameter_vectors_and_names_of_quantum_registers():
    def build(qreg_name: str | None) -> QuantumCircuit:
        theta = ParameterVector("t", 3)
        qc = QuantumCircuit(QuantumRegister(3, qreg_name))
        for i in range(3):
            qc.ry(theta[i], i)
        qc.measure_all()
        return qc

    # quantum register names (often generated: QuantumRegister(3) is "q<counter>") change
    # no result; parameter vectors built anew get new UUIDs
    assert circuit_fingerprint(build(None)) == circuit_fingerprint(build(None))
    assert circuit_fingerprint(build("a")) == circuit_fingerprint(build("b"))


def test_fingerprint_is_the_same_in_another_process():
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from circuit_mutations import _if_on;"
        "from qiskit_haiqu.translate.circuits import circuit_fingerprint;"
        "print(circuit_fingerprint(_if_on(0)))"
    )
    tests_dir = str(Path(__file__).resolve().parents[1])
    out = subprocess.run(
        [sys.executable, "-c", code, tests_dir], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == circuit_fingerprint(_if_on(0))


def _mutate(qc: QuantumCircuit, choice: int) -> QuantumCircuit:
    mutated = qc.copy()
    kind = choice % 4
    if kind == 0:
        mutated.x(0)
    elif kind == 1:
        mutated.global_phase += 0.25
    elif kind == 2:
        mutated.append(XGate().control(1, ctrl_state=0), [0, mutated.num_qubits - 1]) if (
            mutated.num_qubits > 1
        ) else mutated.rz(0.7, 0)
    else:
        gate = Gate("custom", 1, [])
        definition = QuantumCircuit(1)
        definition.rx(0.3 + choice, 0)
        gate.definition = definition
        mutated.append(gate, [0])
    return mutated


@settings(max_examples=60, deadline=None, derandomize=True)
@given(random_circuits(), st.integers(0, 40))
def test_random_circuits_and_their_mutations_never_collide(qc, choice):
    mutated = _mutate(qc, choice)
    assert circuit_fingerprint(mutated) != circuit_fingerprint(qc)
    rebuilt = qc.copy()
    rebuilt.name = "renamed"
    rebuilt.metadata = {"note": 1}
    assert circuit_fingerprint(rebuilt) == circuit_fingerprint(qc)


def test_uploads_carry_no_layout_and_the_user_circuit_is_untouched():
    from qiskit.providers.fake_provider import GenericBackendV2
    from qiskit.transpiler import generate_preset_pass_manager

    qc = QuantumCircuit(3)
    qc.h(0)
    qc.cx(0, 2)
    backend = GenericBackendV2(5, seed=1)
    manager = generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=1)
    isa = manager.run(qc)
    assert isa.layout is not None
    wire = wire_circuit(isa)
    assert wire.layout is None
    assert isa.layout is not None
    assert wire.data == isa.data


def test_uploads_of_ambiguous_classical_layouts_get_a_register_of_every_clbit():
    qc = _loose_clbit(first=False)
    wire = wire_circuit(qc)
    assert [creg.name for creg in qc.cregs] == ["c"]
    assert wire.cregs[-1].name == CLBITS_REGISTER
    assert list(wire.cregs[-1]) == list(wire.clbits)
    assert register_layout(stored_view(wire)) == register_layout(qc)
    simple = QuantumCircuit(2, 2)
    assert wire_circuit(simple) is simple


def test_a_user_register_named_like_the_added_one_is_kept():
    qc = QuantumCircuit(QuantumRegister(1), ClassicalRegister(1, CLBITS_REGISTER))
    wire = wire_circuit(qc)
    assert [creg.name for creg in wire.cregs] == [CLBITS_REGISTER, CLBITS_REGISTER + "_"]
    assert register_layout(stored_view(wire)) == [(CLBITS_REGISTER, [0])]
