"""Pairs of circuits that differ only in what a hand-picked fingerprint would miss.

Each pair once ran as the other end to end (same fingerprint, so the second circuit was
found in the experiment and the first one ran). Shared by the identity tests and the
over-HTTP tests.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st
from qiskit.circuit import (
    AnnotatedOperation,
    ClassicalRegister,
    Clbit,
    Parameter,
    PowerModifier,
    QuantumCircuit,
    QuantumRegister,
)
from qiskit.circuit.classical import expr, types
from qiskit.circuit.library import XGate
from qiskit.quantum_info import Clifford


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


_GATES = ["h", "x", "y", "z", "s", "t", "sx"]


@st.composite
def random_circuits(draw: st.DrawFn, *, expressions: bool = True) -> QuantumCircuit:
    """Small random circuits: gates, rotations, parameters, CX and measurements.

    With ``expressions``, parameterised rotations take ``theta * k``; without, one of two
    plain parameters (what the fingerprint cache can key).
    """
    width = draw(st.integers(1, 3))
    qc = QuantumCircuit(width, width)
    theta = Parameter("theta")
    plain = [Parameter("a"), Parameter("b")]
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["gate", "rot", "param", "cx", "measure"]))
        q = draw(st.integers(0, width - 1))
        if kind == "gate":
            getattr(qc, draw(st.sampled_from(_GATES)))(q)
        elif kind == "rot":
            qc.rz(draw(st.sampled_from([0.1, 0.2, 0.3])), q)
        elif kind == "param":
            if expressions:
                qc.ry(theta * draw(st.sampled_from([1, 2])), q)
            else:
                qc.ry(draw(st.sampled_from(plain)), q)
        elif kind == "cx" and width > 1:
            qc.cx(q, (q + 1) % width)
        else:
            qc.measure(q, q)
    return qc
