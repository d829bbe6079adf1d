"""Readout-error mitigation of the emulator: what ``use_mitigation`` really does.

The noise is the simulator's own: a ``fake_*`` device's noise model (or a user ``noise_model``
on ``aer_simulator``) carries one readout error per qubit, an assignment matrix
``A[measured, prepared]``. Mitigation undoes exactly that error, nothing more:

* Sampler: tensored readout mitigation. Each clbit is mapped to the physical qubit its last
  (top-level) measurement reads; the inverse of that qubit's ``A`` is applied to the measured
  distribution one clbit at a time, mixing each outcome with its bit-flipped partner. The
  support stays the observed outcomes (a partner that was never observed counts as 0, as in
  M3's subspace approach), so the result is exactly ``A^-1 p`` whenever every partner was
  observed, and a quasi-distribution renormalised to sum 1 in any case.
* Estimator: a symmetric readout model (as after measurement twirling, TREX). A Pauli term
  with support ``S`` is attenuated by ``prod_{q in S} (1 - p01_q - p10_q)``; mitigation
  divides that factor out again, and the standard error grows by the same factor.

Qubits without a readout error, or whose assignment matrix cannot be inverted, are left as
they are; correlated (multi-qubit) readout errors are not modelled by the mitigation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from qiskit.circuit import CONTROL_FLOW_OP_NAMES, QuantumCircuit
from qiskit_aer.noise import NoiseModel

__all__ = [
    "ReadoutErrors",
    "apply_inverse",
    "final_measurements",
    "mitigate_distribution",
]

_SINGULAR = 1e-9
_MAX_INT64_BITS = 62


@dataclass(frozen=True)
class ReadoutErrors:
    """Single-qubit readout errors of a noise model.

    Attributes:
        local: Qubit -> assignment matrix ``A[measured, prepared]`` (columns sum to 1).
        default: The all-qubit assignment matrix, for qubits without a local one.
    """

    local: dict[int, np.ndarray] = field(default_factory=dict)
    default: np.ndarray | None = None

    @classmethod
    def from_noise_model(cls, noise_model: NoiseModel | None) -> ReadoutErrors:
        """Read the single-qubit readout errors of a noise model (``None``: no error)."""
        if noise_model is None:
            return cls()
        local: dict[int, np.ndarray] = {}
        default: np.ndarray | None = None
        for item in noise_model.to_dict().get("errors", []):
            if item.get("type") != "roerror":
                continue
            # ``probabilities[prepared][measured]``; we keep ``A[measured, prepared]``.
            matrix = np.asarray(item["probabilities"], dtype=np.float64).T
            if matrix.shape != (2, 2):
                continue  # a correlated multi-qubit readout error: not mitigated
            qubits = item.get("gate_qubits")
            if not qubits:
                default = matrix
            else:
                for group in qubits:
                    if len(group) == 1:
                        local[int(group[0])] = matrix
        return cls(local, default)

    def __bool__(self) -> bool:
        """Whether there is any readout error at all."""
        return bool(self.local) or self.default is not None

    def matrix(self, qubit: int) -> np.ndarray | None:
        """The assignment matrix of a qubit, or ``None`` when it reads out perfectly."""
        return self.local.get(qubit, self.default)

    def inverse(self, qubit: int) -> np.ndarray | None:
        """The inverse assignment matrix of a qubit, or ``None`` (no error, or singular)."""
        matrix = self.matrix(qubit)
        if matrix is None or np.allclose(matrix, np.eye(2)):
            return None
        if abs(np.linalg.det(matrix)) < _SINGULAR:
            return None
        return np.linalg.inv(matrix)

    def attenuation(self, qubit: int) -> float:
        """``1 - p01 - p10``: how much readout shrinks ``<Z>`` of this qubit (1.0: not at all)."""
        matrix = self.matrix(qubit)
        if matrix is None:
            return 1.0
        return float(1.0 - matrix[1, 0] - matrix[0, 1])

    def pauli_attenuation(self, label: str, physical: Sequence[int]) -> float:
        """The product of :meth:`attenuation` over the support of a Pauli label.

        Args:
            label: Little-endian Pauli label (its last character acts on virtual qubit 0).
            physical: Physical qubit of each virtual qubit.
        """
        factor = 1.0
        for virtual, char in enumerate(reversed(label)):
            if char != "I":
                factor *= self.attenuation(physical[virtual])
        return factor


def final_measurements(circuit: QuantumCircuit) -> dict[int, int]:
    """Clbit index -> index of the qubit its last top-level ``measure`` reads.

    A clbit that a measurement inside control flow may overwrite afterwards is left out
    (left unmitigated): which qubit it reads depends on the run.
    """
    mapping: dict[int, int] = {}
    for instruction in circuit.data:
        operation = instruction.operation
        if operation.name == "measure":
            qubit = circuit.find_bit(instruction.qubits[0]).index
            mapping[circuit.find_bit(instruction.clbits[0]).index] = qubit
        elif operation.name in CONTROL_FLOW_OP_NAMES:
            for position in _written_clbits(operation.blocks):
                mapping.pop(circuit.find_bit(instruction.clbits[position]).index, None)
    return mapping


def _written_clbits(blocks: Iterable[QuantumCircuit]) -> set[int]:
    """Positions (in the blocks' clbits) of the clbits measured anywhere inside them."""
    written: set[int] = set()
    for block in blocks:
        for instruction in block.data:
            operation = instruction.operation
            if operation.name == "measure":
                written.add(block.find_bit(instruction.clbits[0]).index)
            elif operation.name in CONTROL_FLOW_OP_NAMES:
                inner = _written_clbits(operation.blocks)
                written |= {block.find_bit(instruction.clbits[p]).index for p in inner}
    return written


def apply_inverse(
    keys: Sequence[int] | np.ndarray,
    values: Sequence[float] | np.ndarray,
    inverses: Iterable[tuple[int, np.ndarray]],
) -> np.ndarray:
    """Apply per-bit 2x2 inverse assignment matrices to a sparse distribution.

    For each ``(bit, inv)``, the value of every key ``k`` becomes
    ``inv[b, b] * v[k] + inv[b, 1 - b] * v[k ^ (1 << bit)]`` where ``b`` is bit ``bit`` of
    ``k`` and a partner that is not among ``keys`` counts as 0. The result is renormalised
    to sum 1 (a no-op when every partner is present).

    Args:
        keys: Distinct non-negative integer outcomes.
        values: Their probabilities.
        inverses: ``(bit position, 2x2 inverse matrix)`` pairs, applied in order.

    Returns:
        The quasi-probabilities of ``keys``, in the order given.
    """
    raw = [int(key) for key in keys]
    wide = bool(raw) and max(raw).bit_length() > _MAX_INT64_BITS
    array = np.array(raw, dtype=object if wide else np.int64)
    quasi: np.ndarray = np.array(values, dtype=np.float64)
    if not len(array):
        return quasi
    order = np.argsort(array, kind="stable")
    array, quasi = array[order], quasi[order]
    last = len(array) - 1
    for bit, inverse in inverses:
        partner = array ^ (1 << bit)
        position = np.minimum(np.searchsorted(array, partner), last)
        found = np.asarray(array[position] == partner, dtype=bool)
        partner_values = np.where(found, quasi[position], 0.0)
        own = np.asarray((array >> bit) & 1, dtype=np.intp)
        quasi = np.asarray(inverse[own, own] * quasi + inverse[own, 1 - own] * partner_values)
    total = quasi.sum()
    if total != 0.0:
        quasi /= total
    result = np.empty_like(quasi)
    result[order] = quasi
    return result


def mitigate_distribution(
    counts: dict[int, float], clbit_qubits: dict[int, int], errors: ReadoutErrors
) -> dict[int, float]:
    """Tensored readout mitigation of ``{outcome: probability}`` (outcomes as integers).

    Args:
        counts: The measured distribution.
        clbit_qubits: Clbit -> physical qubit it reads (see :func:`final_measurements`).
        errors: The device's readout errors.

    Returns:
        The same outcomes with quasi-probabilities summing to 1; the distribution unchanged
        when no measured qubit has a readout error.
    """
    inverses = []
    for clbit, qubit in sorted(clbit_qubits.items()):
        inverse = errors.inverse(qubit)
        if inverse is not None:
            inverses.append((clbit, inverse))
    if not inverses or not counts:
        return counts
    keys = list(counts)
    quasi = apply_inverse(keys, [counts[k] for k in keys], inverses)
    return dict(zip(keys, quasi.tolist(), strict=True))
