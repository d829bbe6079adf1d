"""In-process checks of the simulation helpers that HTTP cannot reach directly."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit
from qiskit.circuit import Clbit, Gate, Parameter
from qiskit.circuit.library import QFTGate
from qiskit_aer import AerSimulator

from qiskit_haiqu.emulator.devices import DeviceCatalog
from qiskit_haiqu.emulator.settings import KEY_FORMATS, EmulatorSettings
from qiskit_haiqu.emulator.simulate import (
    Entry,
    RunPlan,
    Simulator,
    _execute,
    _non_unitary,
    _runs_as_is,
    _standard_names,
    key_formatter,
)


def test_rows_without_parameters_left_after_transpilation_run_once_each():
    original = QuantumCircuit(1, 1)
    original.rz(Parameter("phi"), 0)
    original.measure(0, 0)
    transpiled = QuantumCircuit(1, 1)  # as if the transpiler had dropped the RZ
    transpiled.measure(0, 0)
    entry = Entry("c", original, rows=np.array([[0.1], [0.2], [0.3]]))
    result = _execute(AerSimulator(), transpiled, entry, {"shots": 5, "seed_simulator": 1})
    assert [result.get_counts(i) for i in range(3)] == [{"0": 5}] * 3


def _layout(parts: list[int | tuple[str, list[int]]], num_clbits: int) -> QuantumCircuit:
    """``num_clbits`` loose clbits, then registers over some of them, in ``parts`` order.

    An int in ``parts`` is a zero-width register's position in ``cregs`` (named ``z<i>``);
    a pair is a register's name and the indices of its clbits, in register order.
    """
    bits = [Clbit() for _ in range(num_clbits)]
    circuit = QuantumCircuit(max(num_clbits, 1))
    circuit.add_bits(bits)
    for part in parts:
        if isinstance(part, int):
            circuit.add_register(ClassicalRegister(0, f"z{part}"))
        else:
            name, indices = part
            circuit.add_register(ClassicalRegister(name=name, bits=[bits[i] for i in indices]))
    return circuit


def _registers(*sizes: int) -> QuantumCircuit:
    """Plain registers ``r0, r1, ...`` of these sizes, in clbit order."""
    circuit = QuantumCircuit(max(sum(sizes), 1))
    for index, size in enumerate(sizes):
        circuit.add_register(ClassicalRegister(size, f"r{index}"))
    return circuit


def _with_loose(position: str) -> QuantumCircuit:
    """Registers c (2) and d (1), with one loose clbit first, between them or last."""
    circuit = QuantumCircuit(4)
    c, d, loose = ClassicalRegister(2, "c"), ClassicalRegister(1, "d"), [Clbit()]
    order = {"first": [loose, c, d], "between": [c, loose, d], "last": [c, d, loose]}[position]
    for item in order:
        if isinstance(item, ClassicalRegister):
            circuit.add_register(item)
        else:
            circuit.add_bits(item)
    return circuit


# Odd classical layouts: what Aer's ``get_counts()`` makes of each is the reference.
LAYOUTS: dict[str, Callable[[], QuantumCircuit]] = {
    "one register": lambda: _registers(3),
    "three registers": lambda: _registers(2, 1, 3),
    "loose clbit first": lambda: _with_loose("first"),
    "loose clbit between": lambda: _with_loose("between"),
    "loose clbit last": lambda: _with_loose("last"),
    "no registers": lambda: _layout([], 3),
    "register covering some clbits": lambda: _layout([("r", [1, 2])], 4),
    "register out of clbit order": lambda: _layout([("r", [2, 0]), ("s", [1])], 3),
    "overlapping registers": lambda: _layout([("a", [0, 1]), ("b", [1, 2])], 3),
    "zero-width register last": lambda: _layout([("c0", [0, 1]), 1], 2),
    "zero-width register first": lambda: _layout([0, ("c0", [0, 1])], 2),
    "zero-width register between": lambda: _layout([("a", [0]), 1, ("b", [1, 2])], 3),
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_get_counts_keys_are_exactly_aers(name):
    circuit = LAYOUTS[name]()
    circuit.h(range(circuit.num_clbits))
    circuit.measure(range(circuit.num_clbits), range(circuit.num_clbits))
    result = AerSimulator().run(circuit, shots=400, seed_simulator=11).result()
    raw: dict[str, int] = result.data(0)["counts"]
    assert len(raw) == 2**circuit.num_clbits  # every outcome occurs, so every key is compared
    expected = result.get_counts()
    for key_format, reference in (
        ("get_counts", expected),
        ("hex", raw),
        ("full", {format(int(k, 16), f"0{circuit.num_clbits}b"): v for k, v in raw.items()}),
    ):
        fmt = key_formatter(circuit, key_format)
        assert {fmt(int(key, 16)): count for key, count in raw.items()} == reference, key_format


def test_get_counts_keys_of_odd_layouts_are_positional():
    # Aer's header: creg_sizes of every register (zero-width, overlapping), memory_slots =
    # num_clbits; the key is cut from the left in reversed(creg_sizes) groups.
    assert key_formatter(_with_loose("between"), "get_counts")(0b1001) == "1 00"
    assert key_formatter(_with_loose("first"), "get_counts")(0b1001) == "1 00"
    overlapping = LAYOUTS["overlapping registers"]()
    assert key_formatter(overlapping, "get_counts")(0b101) == "10 1"
    assert key_formatter(LAYOUTS["zero-width register last"](), "get_counts")(1) == " 01"
    assert key_formatter(LAYOUTS["zero-width register first"](), "get_counts")(1) == "01 "
    assert key_formatter(LAYOUTS["no registers"](), "get_counts")(1) == "001"


@pytest.mark.parametrize("key_format", KEY_FORMATS)
def test_key_formats_without_clbits(key_format):
    expected = {"get_counts": "", "full": "", "hex": "0x0"}[key_format]
    assert key_formatter(QuantumCircuit(2), key_format)(0) == expected
    zero_width_only = QuantumCircuit(2)
    zero_width_only.add_register(ClassicalRegister(0, "c"))
    assert key_formatter(zero_width_only, key_format)(0) == expected


def test_full_and_hex_keys_ignore_registers():
    circuit = _with_loose("between")
    assert key_formatter(circuit, "full")(0b1001) == "1001"
    assert key_formatter(circuit, "hex")(0b1001) == "0x9"


def test_settings_check_their_choices():
    assert EmulatorSettings().key_format == "get_counts"
    assert EmulatorSettings().upload_layout == "honour"
    with pytest.raises(ValueError, match="key_format"):
        EmulatorSettings(key_format="spaced")
    with pytest.raises(ValueError, match="upload_layout"):
        EmulatorSettings(upload_layout="maybe")
    with pytest.raises(ValueError, match="max_trajectories"):
        EmulatorSettings(max_trajectories=0)


def _content(build: Callable[[QuantumCircuit], object]) -> str:
    circuit = QuantumCircuit(2, 1)
    circuit.h(0)
    build(circuit)
    return _non_unitary(circuit)


def _if_measured(circuit: QuantumCircuit) -> None:
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.measure(1, 0)


def _if_unmeasured(circuit: QuantumCircuit) -> None:
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(1)


@pytest.mark.parametrize(
    ("build", "content"),
    [
        (lambda c: c.cx(0, 1), "unitary"),
        (lambda c: (c.barrier(), c.delay(10, 0)), "unitary"),
        (lambda c: c.reset(0), "mixed"),
        (lambda c: c.initialize([0, 1], [1]), "mixed"),
        (_if_unmeasured, "mixed"),
        (lambda c: c.measure(0, 0), "measured"),
        (_if_measured, "measured"),
    ],
    ids=["gates", "directives", "reset", "initialize", "if_test", "measure", "nested measure"],
)
def test_non_unitary_content_is_detected(build, content):
    assert _content(build) == content


def test_every_emulator_in_a_process_shares_the_built_devices():
    first, second = DeviceCatalog(), DeviceCatalog(max_statevector_qubits=10)
    assert second.backend("fake_manila") is first.backend("fake_manila")
    built = first.simulator("fake_manila", None, None)  # its noise model takes seconds to build
    assert second.simulator("fake_manila", None, None) is built
    assert second.simulator("fake_manila", "density_matrix", None) is not built
    # what depends on an emulator's settings stays its own
    assert first.model("aer_simulator").qubits == 24
    assert second.model("aer_simulator").qubits == 10


def _custom_gate(name: str) -> Callable[[QuantumCircuit], None]:
    """Appends a gate called ``name`` whose definition is an X."""

    def build(circuit: QuantumCircuit) -> None:
        definition = QuantumCircuit(1)
        definition.x(0)
        gate = Gate(name, 1, [])
        gate.definition = definition
        circuit.append(gate, [0])

    return build


@pytest.mark.parametrize(
    ("build", "as_is"),
    [
        (lambda c: (c.h(0), c.cx(0, 1), c.rz(Parameter("t"), 1)), True),
        (lambda c: (c.barrier(), c.measure(0, 0), c.reset(1), c.delay(10, 0)), True),
        (lambda c: c.append(QFTGate(2), [0, 1]), False),
        (_custom_gate("h"), False),
        (_custom_gate("flip"), False),
        (_if_unmeasured, False),
        (lambda c: c.initialize([0, 1], [1]), False),
    ],
    ids=[
        "gates",
        "directives",
        "library gate",
        "custom gate named h",
        "custom gate",
        "if_test",
        "initialize",
    ],
)
def test_only_circuits_of_aers_own_instructions_skip_the_transpiler(build, as_is):
    basis = frozenset(_standard_names(AerSimulator()))
    circuit = QuantumCircuit(2, 1)
    build(circuit)
    assert _runs_as_is(circuit, basis) is as_is


@pytest.mark.parametrize("as_is", [True, False], ids=["standard gates", "custom gate"])
def test_an_untranslated_circuit_samples_as_its_translation_would(as_is):
    circuit = QuantumCircuit(2, 2)
    if as_is:
        circuit.x(0)
    else:
        _custom_gate("flip")(circuit)  # an X, which the transpiler translates
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    simulator = Simulator(DeviceCatalog())
    plan = RunPlan([Entry("c", circuit, rows=None, observables=None)], "aer_simulator", 400, 7)
    prepared = simulator._prepare(plan, plan.entries[0], strip_measurements=False)
    assert (prepared.circuit is circuit) is as_is
    assert prepared.physical == [0, 1]
    results, _ = simulator.run(plan)
    assert results == [{"11": 1.0}]  # frequencies, as the service reports them
