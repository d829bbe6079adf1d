"""In-process checks of the simulation helpers that HTTP cannot reach directly."""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit_aer import AerSimulator

from qiskit_haiqu.emulator.simulate import Entry, _execute, key_formatter


def test_rows_without_parameters_left_after_transpilation_run_once_each():
    original = QuantumCircuit(1, 1)
    original.rz(Parameter("phi"), 0)
    original.measure(0, 0)
    transpiled = QuantumCircuit(1, 1)  # as if the transpiler had dropped the RZ
    transpiled.measure(0, 0)
    entry = Entry("c", original, rows=np.array([[0.1], [0.2], [0.3]]))
    result = _execute(AerSimulator(), transpiled, entry, {"shots": 5, "seed_simulator": 1})
    assert [result.get_counts(i) for i in range(3)] == [{"0": 5}] * 3


def test_key_formats_follow_register_layout():
    circuit = QuantumCircuit(1)
    circuit.add_bits(QuantumCircuit(0, 2).clbits)  # loose clbits: no register split
    assert key_formatter(circuit, "spaced")(2) == "10"
    assert key_formatter(circuit, "hex")(2) == "0x2"
    assert key_formatter(QuantumCircuit(1), "joined")(0) == ""
