"""Observables for the wire: ``[pauli labels, real coefficients]`` pairs, built vectorised.

Labels are in Qiskit's little-endian order (the rightmost character acts on qubit 0) and
have one character per circuit qubit; identity terms are kept. Projector terms of a
``SparseObservable`` (``0 1 + - r l``) are expanded into Paulis.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from qiskit.primitives.containers.observables_array import ObservablesArray
from qiskit.quantum_info import Pauli, SparseObservable, SparsePauliOp

from qiskit_haiqu.errors import HaiquInputError

__all__ = [
    "ObservablePair",
    "complex_terms",
    "observable_to_wire",
    "observables_to_wire",
    "stds_fallback",
]

ObservablePair = tuple[list[str], np.ndarray]
"""One observable on the wire: Pauli labels and their real float64 coefficients (the
wire models' ``ObservablePair``, with the coefficients as an array until serialised)."""

_IMAG_TOLERANCE = 1e-10
_MAX_EXPANDED_TERMS = 2**16
# SparseObservable.BitTerm values -> label characters (X=2, Y=3, Z=1).
_LETTERS = np.full(16, ord("?"), dtype=np.uint8)
_LETTERS[1], _LETTERS[2], _LETTERS[3] = ord("Z"), ord("X"), ord("Y")
_PAULI_TERMS = frozenset({1, 2, 3})


def observable_to_wire(observable: SparseObservable, num_qubits: int) -> ObservablePair:
    """One observable as ``(labels, coefficients)`` for a circuit of ``num_qubits`` qubits.

    Raises:
        ValueError: the observable's width differs from the circuit's.
        HaiquInputError: a coefficient has an imaginary part (the term is named), or a
            projector expansion would be too large.
    """
    if observable.num_qubits != num_qubits:
        raise ValueError(
            f"The number of qubits of the circuit ({num_qubits}) does not match the number of "
            f"qubits of the observable ({observable.num_qubits}). For a transpiled circuit, "
            "map the observable with observable.apply_layout(circuit.layout)."
        )
    bit_terms = np.asarray(observable.bit_terms, dtype=np.uint8)
    if bit_terms.size and not set(np.unique(bit_terms).tolist()) <= _PAULI_TERMS:
        observable = _expand_projectors(observable)
        bit_terms = np.asarray(observable.bit_terms, dtype=np.uint8)
    indices = np.asarray(observable.indices, dtype=np.intp)
    boundaries = np.asarray(observable.boundaries, dtype=np.intp)
    coeffs = np.asarray(observable.coeffs, dtype=np.complex128)
    _check_real(coeffs, observable)
    num_terms = coeffs.size
    chars = np.full((num_terms, num_qubits), ord("I"), dtype=np.uint8)
    if bit_terms.size:
        term_of = np.repeat(np.arange(num_terms), np.diff(boundaries))
        chars[term_of, num_qubits - 1 - indices] = _LETTERS[bit_terms]
    text = chars.tobytes().decode("ascii")
    if num_qubits == 0:
        labels = [""] * num_terms
    else:
        labels = [text[i : i + num_qubits] for i in range(0, num_terms * num_qubits, num_qubits)]
    return labels, np.ascontiguousarray(coeffs.real)


def _expand_projectors(observable: SparseObservable) -> SparseObservable:
    """The observable with every projector written as Paulis (|0><0| = (I + Z) / 2, ...)."""
    bit_terms = np.asarray(observable.bit_terms, dtype=np.uint8)
    lengths = np.diff(np.asarray(observable.boundaries, dtype=np.intp)).astype(np.intp)
    term_of = np.repeat(np.arange(observable.num_terms), lengths)
    projectors = ~np.isin(bit_terms, list(_PAULI_TERMS))
    per_term = np.bincount(term_of[projectors], minlength=observable.num_terms)
    total = int(np.sum(np.ldexp(1.0, per_term)))
    if total > _MAX_EXPANDED_TERMS:
        raise HaiquInputError(
            f"The observable's projector terms expand into {total} Pauli terms, more than the "
            f"{_MAX_EXPANDED_TERMS} allowed. Write it with fewer projectors per term."
        )
    return observable.as_paulis().simplify()


def _check_real(coeffs: np.ndarray, observable: SparseObservable) -> None:
    scale = np.maximum(1.0, np.abs(coeffs.real))
    bad = np.nonzero(np.abs(coeffs.imag) > _IMAG_TOLERANCE * scale)[0]
    if bad.size:
        label = _term_label(observable, int(bad[0]))
        raise HaiquInputError(
            f"Observable term {label!r} has the complex coefficient {coeffs[bad[0]]}; "
            "observables must be Hermitian with real coefficients. Drop the imaginary parts "
            "(or combine the term with its conjugate)."
        )


def _term_label(observable: SparseObservable, term: int) -> str:
    sparse_label, qubits, _ = observable.to_sparse_list()[term]
    chars = ["I"] * observable.num_qubits
    for letter, qubit in zip(sparse_label, qubits, strict=True):
        chars[observable.num_qubits - 1 - qubit] = letter
    return "".join(chars)


def observables_to_wire(
    observables: ObservablesArray, num_qubits: int
) -> tuple[list[ObservablePair], np.ndarray]:
    """The distinct observables of an array as wire pairs, and where each cell points.

    Returns:
        ``(pairs, index)``: ``pairs[k]`` is the k-th distinct observable; ``index`` has the
        array's shape and holds, per cell, the position of its observable in ``pairs``.
    """
    elements = observables.sparse_observables_array()
    index = np.zeros(observables.shape, dtype=np.intp)
    seen: dict[tuple[bytes, ...], int] = {}
    pairs: list[ObservablePair] = []
    for cell, observable in np.ndenumerate(elements):
        key = (
            np.asarray(observable.bit_terms).tobytes(),
            np.asarray(observable.indices).tobytes(),
            np.asarray(observable.boundaries).tobytes(),
            np.asarray(observable.coeffs).tobytes(),
        )
        position = seen.get(key)
        if position is None:
            position = seen[key] = len(pairs)
            pairs.append(observable_to_wire(observable, num_qubits))
        index[cell] = position
    return pairs, index


def complex_terms(observables: Any) -> list[str]:
    """Describe the terms with complex coefficients in an observables-like input.

    Qiskit's own coercion refuses such observables without naming the term; this finds
    them so the error can. Unknown inputs are skipped.
    """
    found: list[str] = []

    def visit(item: Any) -> None:
        observable: SparseObservable | None = None
        if isinstance(item, SparseObservable):
            observable = item
        elif isinstance(item, SparsePauliOp):
            observable = SparseObservable.from_sparse_pauli_op(item)
        elif isinstance(item, Pauli):
            observable = SparseObservable.from_pauli(item)
        elif isinstance(item, dict):
            try:
                observable = SparseObservable.from_list(
                    [(str(k), complex(v)) for k, v in item.items()]
                )
            except (TypeError, ValueError):
                return
        elif isinstance(item, list | tuple | np.ndarray):
            for sub in item:
                visit(sub)
            return
        if observable is None:
            return
        simplified = observable.simplify()
        coeffs = np.asarray(simplified.coeffs)
        for term in np.nonzero(np.abs(coeffs.imag) > _IMAG_TOLERANCE)[0]:
            found.append(f"{_term_label(simplified, int(term))!r} ({coeffs[term]})")

    visit(observables)
    return found


def stds_fallback(evs: np.ndarray, pairs: Sequence[ObservablePair], shots: int) -> np.ndarray:
    """Standard errors estimated from the values when the service sends none.

    For an observable with one non-identity term ``c P + d``, the exact shot-noise error
    ``|c| sqrt(1 - <P>^2) / sqrt(shots)``; for several terms the upper bound
    ``sum |c_i| / sqrt(shots)`` (each term's error is at most ``|c_i| / sqrt(shots)``);
    identity-only observables have none.

    Args:
        evs: Values of shape ``(len(pairs), rows)``.
        pairs: The observables, in the order of ``evs``' first axis.
        shots: Shots per evaluation.
    """
    stds = np.zeros_like(evs, dtype=np.float64)
    root = np.sqrt(shots)
    for k, (labels, coeffs) in enumerate(pairs):
        is_pauli = np.array([set(label) != {"I"} and label != "" for label in labels], dtype=bool)
        active = coeffs[is_pauli]
        if active.size == 0:
            continue
        if active.size == 1:
            offset = float(np.sum(coeffs[~is_pauli]))
            expectation = np.clip((evs[k] - offset) / active[0], -1.0, 1.0)
            stds[k] = abs(active[0]) * np.sqrt(1.0 - expectation**2) / root
        else:
            stds[k] = np.sum(np.abs(active)) / root
    return stds
