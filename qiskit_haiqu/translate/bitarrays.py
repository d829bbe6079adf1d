"""Probability distributions from the API to one ``BitArray`` per classical register.

The API returns ``{bitstring: probability}`` per parameter row, not shots. Unmitigated
results are counts divided by shots, so the counts are rebuilt exactly. Mitigated results
are quasi-probabilities: they are projected onto the nearest probability distribution and
exactly ``shots`` samples are allocated by largest remainder; the caller keeps the raw values.

Keys are read by the rules Qiskit writes them with (``Result.get_counts``: the full clbit
string, clbit 0 rightmost, chopped into space-separated groups of the registers' sizes, last
register first; or joined; or hex ``0x...``). Uploads whose registers do not tile the clbits
carry one more register covering every clbit, last (see
:func:`~qiskit_haiqu.translate.circuits.wire_circuit`), so the first group of such a key is
the whole clbit string. A key that fits no reading is refused, never guessed. Everything on
the common path is vectorised: no Python loop per shot or per outcome.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from qiskit.primitives import BitArray

from qiskit_haiqu.errors import HaiquInvalidResponseError

__all__ = ["DecodedSamples", "distributions_to_bitarrays", "nearest_probabilities"]

Layout = Sequence[tuple[str, Sequence[int]]]

_ZERO = ord("0")
_SPACE = ord(" ")
_MAX_WORD_BITS = 64


@dataclass
class DecodedSamples:
    """Samples of one pub.

    Attributes:
        arrays: One ``BitArray`` per classical register, in register order.
        exact: Whether every distribution was a whole number of counts summing to shots.
        quasi_dists: The raw distributions, kept when they were not exact.
    """

    arrays: dict[str, BitArray]
    exact: bool
    quasi_dists: list[dict[str, float]] | None


def distributions_to_bitarrays(
    dists: Sequence[Mapping[str, float]],
    *,
    shots: int,
    num_clbits: int,
    layout: Layout,
    shape: tuple[int, ...],
    seed: int | None = None,
) -> DecodedSamples:
    """Decode one pub's distributions (one per parameter row, row-major) into BitArrays.

    Args:
        dists: ``{bitstring: probability}`` per row; ``len(dists) == prod(shape)``.
        shots: Shots per row.
        num_clbits: The circuit's number of clbits.
        layout: ``(register name, clbit indices in register order)`` per register.
        shape: The pub's shape.
        seed: Orders the samples within each row by a seeded permutation (so the first
            samples look like real ones); ``None`` keeps them grouped by outcome.

    Raises:
        HaiquInvalidResponseError: the service sent a key or value that cannot be read.
    """
    size = math.prod(shape)
    if len(dists) != size:
        raise HaiquInvalidResponseError(
            f"The service returned {len(dists)} distributions for a pub of shape {shape} "
            f"({size} parameter rows)."
        )
    buffers = {
        name: np.zeros((size, shots, _num_bytes(len(bits))), dtype=np.uint8)
        for name, bits in layout
    }
    rng = np.random.default_rng(seed) if seed is not None else None
    exact = True
    for row, dist in enumerate(dists):  # one row at a time: rows may be decoded as read
        matrices, probs = _register_matrices(dist, num_clbits, layout)
        counts, row_exact = _counts(probs, shots)
        exact &= row_exact
        # The same seeded order for every register of the row (they are columns of one shot).
        order = None if rng is None else rng.permutation(shots).astype(np.intp, copy=False)
        for name, matrix in matrices.items():
            if not matrix.shape[1]:
                continue  # a zero-width register: its samples hold no bytes
            samples = _as_words(buffers[name][row])  # a view: written in place
            samples[:] = np.repeat(_as_words(np.ascontiguousarray(matrix)), counts)
            if order is not None:
                samples[:] = samples[order]
    arrays = {
        name: BitArray(buffers[name].reshape(*shape, shots, -1), len(bits)) for name, bits in layout
    }
    quasi = None if exact else [{str(k): float(v) for k, v in d.items()} for d in dists]
    return DecodedSamples(arrays=arrays, exact=exact, quasi_dists=quasi)


def _num_bytes(num_bits: int) -> int:
    return (num_bits + 7) // 8


_WORDS = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _as_words(matrix: np.ndarray) -> np.ndarray:
    """A 1-D view of an ``(n, nbytes)`` byte matrix with one element per row.

    Repeating and reordering rows as single elements is several times faster than as rows
    of bytes; byte order does not matter, as the bytes are only moved.
    """
    nbytes = matrix.shape[1]
    word = _WORDS.get(nbytes, np.dtype((np.void, nbytes)))
    words: np.ndarray = matrix.view(word).reshape(matrix.shape[0])
    return words


def _pack(chars: np.ndarray, columns: Sequence[int]) -> np.ndarray:
    """Pack the given key-character columns (most significant first) into bytes.

    ``chars`` holds 0/1 values; padding zeros go on the left, as ``BitArray`` packs.
    """
    num_bits = len(columns)
    pad = _num_bytes(num_bits) * 8 - num_bits
    if num_bits and not pad and list(columns) == list(range(chars.shape[1])):
        return np.packbits(chars, axis=1)
    bits = np.zeros((chars.shape[0], num_bits + pad), dtype=np.uint8)
    if num_bits:
        bits[:, pad:] = chars[:, list(columns)]
    return np.packbits(bits, axis=1)


def _register_matrices(
    dist: Mapping[str, float], num_clbits: int, layout: Layout
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Packed bytes of every outcome for every register, and the outcomes' probabilities."""
    keys = list(dist.keys())
    try:
        probs = np.fromiter(dist.values(), dtype=np.float64, count=len(keys))
    except (TypeError, ValueError):
        raise HaiquInvalidResponseError(
            "The service returned a distribution whose values are not numbers."
        ) from None
    chars = _key_chars(keys, num_clbits, [len(bits) for _, bits in reversed(layout)])
    if num_clbits <= _MAX_WORD_BITS:
        values = _outcome_values(chars)
        return {name: _register_bytes(values, bits) for name, bits in layout}, probs
    width = num_clbits
    matrices = {
        # Register bit i is clbit bits[i]; its key character sits at column width-1-bits[i].
        name: _pack(chars, [width - 1 - b for b in reversed(bits)])
        for name, bits in layout
    }
    return matrices, probs


def _outcome_values(chars: np.ndarray) -> np.ndarray:
    """The clbit integer of every outcome (at most 64 clbits)."""
    packed = np.packbits(chars, axis=1)  # padded on the right: the value shifted left
    nbytes = packed.shape[1]
    size = next(size for size in (1, 2, 4, 8) if size >= nbytes)  # the narrowest word
    if size != nbytes:
        words = np.zeros((chars.shape[0], size), dtype=np.uint8)
        words[:, size - nbytes :] = packed
        packed = words
    values = packed.view(f">u{size}").reshape(-1).astype(np.uint64)
    values >>= np.uint64(nbytes * 8 - chars.shape[1])
    return values


def _register_bytes(values: np.ndarray, bits: Sequence[int]) -> np.ndarray:
    """Big-endian packed bytes of one register, from the outcomes' clbit integers."""
    if list(bits) == list(range(len(bits))):
        register = values & np.uint64((1 << len(bits)) - 1)
    else:
        register = np.zeros_like(values)
        for position, clbit in enumerate(bits):
            register |= ((values >> np.uint64(clbit)) & np.uint64(1)) << np.uint64(position)
    nbytes = _num_bytes(len(bits))
    raw = register.astype(">u8").view(np.uint8).reshape(-1, 8)
    return np.ascontiguousarray(raw[:, 8 - nbytes :])


def _key_chars(keys: list[str], width: int, sizes: Sequence[int]) -> np.ndarray:
    """A ``(len(keys), width)`` 0/1 matrix of the clbit strings (column 0 = clbit width-1).

    ``sizes`` are the register sizes in the order a key's groups come (last register first).
    """
    joined = "".join(keys)
    if keys and joined.isascii():
        length = len(keys[0])
        columns = _clbit_columns(keys[0], width, sizes)
        if columns is not None and len(joined) == len(keys) * length:
            raw = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(len(keys), length)
            if length == width:  # the whole clbit string: no groups to pick the bits from
                whole: np.ndarray = raw - np.uint8(_ZERO)
                if whole.size == 0 or whole.max() <= 1:
                    return whole
            else:
                spaces = np.array([c == " " for c in keys[0]], dtype=bool)
                chars = raw[:, columns] - _ZERO
                if (raw[:, spaces] == _SPACE).all() and (chars.size == 0 or chars.max() <= 1):
                    return chars.astype(np.uint8, copy=False)
    normal = [_full_key(key, width, sizes) for key in keys]
    joined = "".join(normal)
    chars = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(len(keys), width)
    return chars - _ZERO


def _clbit_columns(key: str, width: int, sizes: Sequence[int]) -> list[int] | None:
    """Where the clbit string's characters sit in a key laid out like ``key``, if it is whole.

    The whole string first (the only group, or an upload with the added all-clbits
    register), or one group per register of the right sizes (registers tiling the clbits).
    ``None`` for hex keys and for keys that need padding.
    """
    if key[:2].lower() == "0x":
        return None
    groups = key.split(" ")
    if len(groups[0]) == width:
        return list(range(width))
    if len(groups) > 1 and [len(group) for group in groups] == list(sizes):
        return [i for i, c in enumerate(key) if c != " "]
    return None


def _full_key(key: str, width: int, sizes: Sequence[int]) -> str:
    """One key as the ``width``-character clbit string, by the first reading that fits.

    Hex (``0x...``); a key laid out as :func:`_clbit_columns` reads; a binary string
    (zero-padded when short, leading zeros dropped when long). Anything else is refused.
    """
    columns = _clbit_columns(key, width, sizes)
    if key[:2].lower() == "0x":
        try:
            text = format(int(key, 16), "b")
        except ValueError:
            text = "?"
    elif columns is not None:
        text = "".join(key[i] for i in columns)
    elif " " not in key:
        text = key
    else:
        raise HaiquInvalidResponseError(
            f"The service returned the outcome {key!r}, whose groups fit no layout of the "
            f"circuit's {width} clbits (neither the whole clbit string first nor one group "
            f"per register of sizes {list(sizes)}). Report this to Haiqu support."
        )
    if not set(text) <= {"0", "1"}:
        raise HaiquInvalidResponseError(
            f"The service returned the outcome {key!r}, which is neither a binary nor a hex "
            "bitstring."
        )
    if len(text) > width:
        extra, text = text[: len(text) - width], text[len(text) - width :]
        if "1" in extra:
            raise HaiquInvalidResponseError(
                f"The service returned the outcome {key!r}, wider than the circuit's "
                f"{width} clbits."
            )
    return text.rjust(width, "0")


def _counts(probs: np.ndarray, shots: int) -> tuple[np.ndarray, bool]:
    """Whole counts summing to ``shots``, and whether they were exact already."""
    if probs.size == 0:
        raise HaiquInvalidResponseError("The service returned an empty distribution.")
    if not np.isfinite(probs).all():
        raise HaiquInvalidResponseError("The service returned a non-finite probability.")
    scaled = probs * shots
    counts = np.rint(scaled)
    if (
        np.all(probs >= 0)
        and np.all(np.abs(scaled - counts) <= 1e-6)
        and int(counts.sum()) == shots
    ):
        return counts.astype(np.int64), True
    return _largest_remainder(nearest_probabilities(probs), shots), False


def nearest_probabilities(quasi: np.ndarray) -> np.ndarray:
    """The probability vector nearest (in Euclidean distance) to a quasi-probability vector.

    The projection onto the simplex (the method behind Qiskit's
    ``QuasiDistribution.nearest_probability_distribution``), vectorised.
    """
    values = np.asarray(quasi, dtype=np.float64)
    ordered = np.sort(values)[::-1]
    cumulative = np.cumsum(ordered) - 1.0
    steps = np.arange(1, values.size + 1)
    positive = ordered - cumulative / steps > 0
    rho = int(np.nonzero(positive)[0][-1])
    theta = cumulative[rho] / (rho + 1)
    projected: np.ndarray = np.maximum(values - theta, 0.0)
    return projected


def _largest_remainder(probs: np.ndarray, shots: int) -> np.ndarray:
    """Exactly ``shots`` whole counts proportional to ``probs`` (ties to the lower index)."""
    scaled = probs * shots
    counts: np.ndarray = np.floor(scaled).astype(np.int64)
    missing = shots - int(counts.sum())
    if missing > 0:
        order = np.argsort(-(scaled - counts), kind="stable")
        counts[order[:missing]] += 1
    elif missing < 0:  # float rounding pushed the floors over; take back from the largest
        order = np.argsort(-counts, kind="stable")
        counts[order[:-missing]] -= 1
    return counts
