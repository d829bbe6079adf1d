"""Circuit identity: circuits that can give different results never share a fingerprint.

Every pair in ``MUTATIONS`` is two circuits that differ in something the old, hand-picked
fingerprint ignored (each ran as the other end to end); equal circuits built twice, in this
process or another, must keep sharing one so loops upload once.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit.circuit import (
    AnnotatedOperation,
    ClassicalRegister,
    Clbit,
    Gate,
    Parameter,
    ParameterVector,
    PowerModifier,
    QuantumCircuit,
    QuantumRegister,
)
from qiskit.circuit.classical import expr, types
from qiskit.circuit.library import XGate
from qiskit.quantum_info import Clifford

from qiskit_haiqu.translate.circuits import (
    CLBITS_REGISTER,
    circuit_fingerprint,
    register_layout,
    stored_view,
    wire_circuit,
)


def _if_on(value: int) -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.x(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], value)):
        qc.x(1)
    qc.measure(1, 1)
    return qc


def _while_on(value: int) -> QuantumCircuit:
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    with qc.while_loop((qc.clbits[0], value)):
        qc.x(0)
        qc.measure(0, 0)
    return qc


def _switch_case(case: int) -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.x(0)
    qc.measure([0, 1], [0, 1])
    creg = ClassicalRegister(2, "cr")
    qc.add_register(creg)
    with qc.switch(qc.cregs[0]) as switch, switch(case):
        qc.x(1)
    return qc


def _expr(kind: str) -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.x(0)
    qc.measure(0, 0)
    build = expr.equal if kind == "equal" else expr.not_equal
    with qc.if_test(build(qc.clbits[0], True)):
        qc.x(1)
    qc.measure(1, 1)
    return qc


def _annotated(power: float) -> QuantumCircuit:
    qc = QuantumCircuit(1)
    qc.append(AnnotatedOperation(XGate(), PowerModifier(power)), [0])
    qc.measure_all()
    return qc


def _ctrl_state(state: int) -> QuantumCircuit:
    qc = QuantumCircuit(2)
    qc.append(XGate().control(1, ctrl_state=state), [0, 1])
    qc.measure_all()
    return qc


def _register_condition(value: int) -> QuantumCircuit:
    cr = ClassicalRegister(2, "cr")
    qc = QuantumCircuit(QuantumRegister(2, "q"), cr)
    qc.measure([0, 1], [0, 1])
    with qc.if_test((cr, value)):
        qc.x(0)
    return qc


def _custom_gate(angle: float) -> QuantumCircuit:
    inner = QuantumCircuit(1, name="mine")
    inner.rx(angle, 0)
    qc = QuantumCircuit(1)
    qc.append(inner.to_gate(), [0])
    qc.measure_all()
    return qc


def _expression(offset: float) -> QuantumCircuit:
    theta = Parameter("theta")
    qc = QuantumCircuit(1)
    qc.rx(2 * theta + offset, 0)
    qc.measure_all()
    return qc


def _global_phase(phase: float) -> QuantumCircuit:
    qc = QuantumCircuit(1, global_phase=phase)
    qc.h(0)
    qc.measure_all()
    return qc


def _store(value: bool) -> QuantumCircuit:
    qc = QuantumCircuit(1, 1)
    flag = qc.add_var("flag", expr.lift(value))
    qc.measure(0, 0)
    with qc.if_test(expr.logic_not(flag)):
        qc.x(0)
    qc.store(flag, expr.lift(not value, types.Bool()))
    return qc


def _clifford(flip: bool) -> QuantumCircuit:
    source = QuantumCircuit(2)
    source.h(0)
    source.cx(0, 1)
    if flip:
        source.x(1)
    qc = QuantumCircuit(2)
    qc.append(Clifford(source), [0, 1])
    qc.measure_all()
    return qc


def _parameter_order(names: tuple[str, str]) -> QuantumCircuit:
    first, second = (Parameter(n) for n in names)
    qc = QuantumCircuit(2)
    qc.rx(first, 0)
    qc.rx(second, 1)
    qc.measure_all()
    return qc


def _loose_clbit(first: bool) -> QuantumCircuit:
    loose, creg = Clbit(), ClassicalRegister(1, "c")
    qc = QuantumCircuit(QuantumRegister(1, "q"))
    qc.add_bits([loose] if first else [])
    qc.add_register(creg)
    if not first:
        qc.add_bits([loose])
    qc.measure(0, creg[0])
    return qc


MUTATIONS: list[tuple[str, Callable[[object], QuantumCircuit], object, object]] = [
    ("if_test value", _if_on, 0, 1),
    ("while_loop value", _while_on, 0, 1),
    ("switch case", _switch_case, 1, 3),
    ("expr equal / not_equal", _expr, "equal", "not_equal"),
    ("annotated power", _annotated, 0.5, 1.0),
    ("ctrl_state", _ctrl_state, 0, 1),
    ("register condition", _register_condition, 1, 3),
    ("custom gate definition", _custom_gate, 0.1, 0.2),
    ("parameter expression", _expression, 0.0, 1.0),
    ("global phase", _global_phase, 0.0, 0.5),
    ("classical variable", _store, True, False),
    ("Clifford", _clifford, False, True),
    ("parameter names", _parameter_order, ("a", "b"), ("a", "c")),
    ("loose clbit position", _loose_clbit, True, False),
]


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
        "from tests.translate.test_identity import _if_on;"
        "from qiskit_haiqu.translate.circuits import circuit_fingerprint;"
        "print(circuit_fingerprint(_if_on(0)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="."
    ).stdout.strip()
    assert out == circuit_fingerprint(_if_on(0))


_GATES = ["h", "x", "y", "z", "s", "t", "sx"]


@st.composite
def circuits(draw: st.DrawFn) -> QuantumCircuit:
    width = draw(st.integers(1, 3))
    qc = QuantumCircuit(width, width)
    theta = Parameter("theta")
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["gate", "rot", "param", "cx", "measure"]))
        q = draw(st.integers(0, width - 1))
        if kind == "gate":
            getattr(qc, draw(st.sampled_from(_GATES)))(q)
        elif kind == "rot":
            qc.rz(draw(st.sampled_from([0.1, 0.2, 0.3])), q)
        elif kind == "param":
            qc.ry(theta * draw(st.sampled_from([1, 2])), q)
        elif kind == "cx" and width > 1:
            qc.cx(q, (q + 1) % width)
        else:
            qc.measure(q, q)
    return qc


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
@given(circuits(), st.integers(0, 40))
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
