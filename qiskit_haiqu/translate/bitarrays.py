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
the common path is vectorised: no Python loop per shot or per outcome, and rows are decoded a
few at a time (the rows of a chunk together, as each would be decoded alone).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
    if shots < 1:
        raise HaiquInvalidResponseError(
            f"The service says the job ran {shots} shots; a sampled job runs at least one."
        )
    if len(dists) != size:
        raise HaiquInvalidResponseError(
            f"The service returned {len(dists)} distributions for a pub of shape {shape} "
            f"({size} parameter rows)."
        )
    buffers = {
        name: np.zeros((size, shots, _num_bytes(len(bits))), dtype=np.uint8)
        for name, bits in layout
    }
    pub = _Pub(
        shots=shots,
        num_clbits=num_clbits,
        layout=layout,
        rng=None if seed is None else np.random.default_rng(seed),
        # One element per sample, every row's back to back: views written in place. A
        # zero-width register has no bytes to write.
        samples={
            name: _as_words(buffer.reshape(size * shots, buffer.shape[2]))
            for name, buffer in buffers.items()
            if buffer.shape[2]
        },
    )
    exact = True
    first = 0
    for chunk in _chunks(dists, shots):  # rows may be decoded as read: a few at a time
        exact &= pub.decode(chunk, first)
        first += len(chunk)
        del chunk  # not kept alive while the next chunk's rows are read
    arrays = {
        name: BitArray(buffers[name].reshape(*shape, shots, _num_bytes(len(bits))), len(bits))
        for name, bits in layout
    }
    quasi = None if exact else [{str(k): float(v) for k, v in d.items()} for d in dists]
    return DecodedSamples(arrays=arrays, exact=exact, quasi_dists=quasi)


# A chunk of rows is decoded at once. Its decoded rows (about 200 bytes an outcome) and its
# temporaries stay small; bigger chunks were measured no faster, and slower out of cache.
_CHUNK_OUTCOMES = 1 << 13
_CHUNK_SAMPLES = 1 << 16


def _chunks(
    dists: Iterable[Mapping[str, float]], shots: int
) -> Iterator[list[Mapping[str, float]]]:
    """The rows in order, a few at a time.

    A chunk holds at most ``_CHUNK_OUTCOMES`` outcomes and ``_CHUNK_SAMPLES`` samples, or
    one row bigger than that. It is handed on when the next row does not fit, so only that
    row is read ahead.
    """
    chunk: list[Mapping[str, float]] = []
    outcomes = 0
    for dist in dists:
        full = outcomes + len(dist) > _CHUNK_OUTCOMES or (len(chunk) + 1) * shots > _CHUNK_SAMPLES
        if chunk and full:
            yield chunk
            chunk, outcomes = [], 0
        chunk.append(dist)
        outcomes += len(dist)
    if chunk:
        yield chunk


@dataclass(frozen=True)
class _Pub:
    """What decoding a pub's rows needs, and where their samples go."""

    shots: int
    num_clbits: int
    layout: Layout
    rng: np.random.Generator | None
    samples: dict[str, np.ndarray]

    def decode(self, rows: Sequence[Mapping[str, float]], first: int) -> bool:
        """Write the samples of ``rows`` (rows ``first``, ``first + 1``, ...); whether exact.

        A chunk that fails is decoded again row by row, so the error raised is the first bad
        row's, as if the rows were decoded one at a time.
        """
        try:
            words, counts, exact = self._outcomes(rows)
        except Exception:
            if len(rows) == 1:
                raise
            return all([self.decode([row], first + index) for index, row in enumerate(rows)])
        # Every row's counts sum to shots: the rows' samples come back to back.
        order = None if self.rng is None else _orders(self.rng, len(rows), self.shots)
        start = first * self.shots
        for name, target in self.samples.items():
            part = target[start : start + len(rows) * self.shots]
            grouped = np.repeat(words[name], counts)
            if order is None:
                part[:] = grouped
            else:
                np.take(grouped, order, out=part, mode="clip")
        return exact

    def _outcomes(
        self, rows: Sequence[Mapping[str, float]]
    ) -> tuple[dict[str, np.ndarray], np.ndarray, bool]:
        """Every outcome's register words, its whole count, and whether all rows were exact.

        Read in the order a single row's errors were found: values, keys, then counts.
        """
        keys: list[str] = []
        bounds = [0]
        for row in rows:
            keys.extend(row)
            bounds.append(len(keys))
        values = itertools.chain.from_iterable(row.values() for row in rows)
        probs = _probabilities(values, len(keys))
        limits = np.array(bounds, dtype=np.intp)
        words = _register_words(keys, self.num_clbits, self.layout)
        counts, exact = _counts(probs, limits, self.shots)
        return words, counts, exact


def _orders(rng: np.random.Generator, rows: int, shots: int) -> np.ndarray:
    """Each row's ``rng.permutation(shots)`` in turn, offset to index the rows back to back.

    ``permuted`` along rows shuffles each row's own range in place in row order with the
    same Fisher-Yates draws as ``permutation`` (its extra last step draws nothing), in one
    call for all rows; the tests check it against ``permutation`` row by row.
    """
    orders = np.arange(rows * shots, dtype=np.intp).reshape(rows, shots)
    rng.permuted(orders, axis=1, out=orders)
    return orders.reshape(-1)


def _probabilities(values: Iterable[object], count: int) -> np.ndarray:
    """The outcomes' values as floats."""
    try:
        return np.fromiter(values, dtype=np.float64, count=count)
    except (TypeError, ValueError):
        raise HaiquInvalidResponseError(
            "The service returned a distribution whose values are not numbers."
        ) from None


def _num_bytes(num_bits: int) -> int:
    return (num_bits + 7) // 8


def _word_size(num_bytes: int) -> int:
    """The narrowest unsigned integer (in bytes) holding ``num_bytes`` bytes."""
    return next(size for size in (1, 2, 4, 8) if size >= num_bytes)


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


def _register_words(keys: list[str], num_clbits: int, layout: Layout) -> dict[str, np.ndarray]:
    """Every outcome's packed bytes as one word, per register of non-zero width."""
    chars = _key_chars(keys, num_clbits, [len(bits) for _, bits in reversed(layout)])
    if num_clbits <= _MAX_WORD_BITS:
        values = _outcome_values(chars)
        return {name: _register_from_values(values, bits) for name, bits in layout if bits}
    width = num_clbits
    return {
        # Register bit i is clbit bits[i]; its key character sits at column width-1-bits[i].
        name: _as_words(np.ascontiguousarray(_pack(chars, [width - 1 - b for b in reversed(bits)])))
        for name, bits in layout
        if bits
    }


def _outcome_values(chars: np.ndarray) -> np.ndarray:
    """The clbit integer of every outcome (at most 64 clbits).

    The bits go right-aligned in rows of a whole word, so one flat ``packbits`` (much
    faster than packing along rows) gives the big-endian words.
    """
    size = _word_size(_num_bytes(chars.shape[1]))
    bits = np.zeros((chars.shape[0], size * 8), dtype=np.uint8)
    bits[:, size * 8 - chars.shape[1] :] = chars
    return np.packbits(bits).view(f">u{size}").astype(np.uint64)


def _register_from_values(values: np.ndarray, bits: Sequence[int]) -> np.ndarray:
    """One register's big-endian packed bytes, one word per outcome (see :func:`_as_words`)."""
    if list(bits) == list(range(len(bits))):
        register = values & np.uint64((1 << len(bits)) - 1)
    else:
        register = np.zeros_like(values)
        for position, clbit in enumerate(bits):
            register |= ((values >> np.uint64(clbit)) & np.uint64(1)) << np.uint64(position)
    nbytes = _num_bytes(len(bits))
    size = _word_size(nbytes)
    raw = register.astype(f">u{size}").view(np.uint8).reshape(-1, size)
    return _as_words(np.ascontiguousarray(raw[:, size - nbytes :]))


def _key_chars(keys: list[str], width: int, sizes: Sequence[int]) -> np.ndarray:
    """A ``(len(keys), width)`` 0/1 matrix of the clbit strings (column 0 = clbit width-1).

    ``sizes`` are the register sizes in the order a key's groups come (last register first).
    Keys of one length laid out alike are read as one matrix (:func:`_matrix_chars`); any
    others one by one (:func:`_full_key`), so a key reads the same whatever row or chunk it
    comes in. Keys of uneven lengths are never read as a matrix, even when their lengths
    add up to one: they would be split at the wrong places.
    """
    lengths = np.fromiter(map(len, keys), np.intp, len(keys))
    if lengths.size and lengths.min() == lengths.max():
        chars = _matrix_chars(keys, width, sizes)
        if chars is not None:
            return chars
    normal = [_full_key(key, width, sizes) for key in keys]
    joined = "".join(normal)
    chars = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(len(keys), width)
    return chars - _ZERO


def _matrix_chars(keys: list[str], width: int, sizes: Sequence[int]) -> np.ndarray | None:
    """The clbit matrix of keys of one length, without a Python step per key, if they are
    laid out alike: spaces where the first has them, and binary digits where
    :func:`_clbit_columns` reads the first.
    """
    joined = "".join(keys)
    if not joined.isascii():
        return None
    length = len(keys[0])
    columns = _clbit_columns(keys[0], width, sizes)
    if columns is None:
        return None
    raw = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(len(keys), length)
    if length == width:  # the whole clbit string: no groups to pick the bits from
        whole: np.ndarray = raw - np.uint8(_ZERO)
        return whole if whole.size == 0 or whole.max() <= 1 else None
    spaces = np.array([c == " " for c in keys[0]], dtype=bool)
    chars = np.ascontiguousarray(raw[:, columns] - np.uint8(_ZERO))
    if (raw[:, spaces] == _SPACE).all() and (chars.size == 0 or chars.max() <= 1):
        return chars
    return None


def _clbit_columns(key: str, width: int, sizes: Sequence[int]) -> list[int] | None:
    """Where the clbit string's characters sit in a key laid out like ``key``, if it is whole.

    The whole string first (the only group, or an upload with the added all-clbits
    register), or one group per register of the right sizes when the registers tile the
    clbits (otherwise such groups are not the clbit string). ``None`` for hex keys and for
    keys that need padding.
    """
    if key[:2].lower() == "0x":
        return None
    groups = key.split(" ")
    if len(groups[0]) == width:
        return list(range(width))
    if len(groups) > 1 and sum(sizes) == width and [len(g) for g in groups] == list(sizes):
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


def _counts(probs: np.ndarray, bounds: np.ndarray, shots: int) -> tuple[np.ndarray, bool]:
    """Whole counts, each row's summing to ``shots``, and whether all rows were exact already.

    Row ``i`` is ``probs[bounds[i]:bounds[i + 1]]``.
    """
    lengths = np.diff(bounds)
    if not lengths.all():
        raise HaiquInvalidResponseError("The service returned an empty distribution.")
    if not np.isfinite(probs).all():  # a null reads as NaN
        raise HaiquInvalidResponseError(
            "The service returned a probability that is not a finite number."
        )
    with np.errstate(over="ignore"):
        scaled = probs * shots
        # a row's sums (here and in its projection) stay finite: no value is that large
        readable = math.isfinite(max(scaled.max(), -scaled.min()) * lengths.max())
    if not readable:
        raise HaiquInvalidResponseError(
            f"The service returned probabilities too large to be read as {shots} shots."
        )
    rounded = np.rint(scaled)
    whole = (probs >= 0) & (np.abs(scaled - rounded) <= 1e-6)
    starts = bounds[:-1]
    exact = np.logical_and.reduceat(whole, starts) & (np.add.reduceat(rounded, starts) == shots)
    inexact = np.flatnonzero(~exact)
    if inexact.size:
        rounded[np.repeat(~exact, lengths)] = 0  # replaced below; not cast
    counts = rounded.astype(np.int64)
    for row in inexact:
        part = slice(bounds[row], bounds[row + 1])
        counts[part] = _largest_remainder(nearest_probabilities(probs[part]), shots)
    return counts, not inexact.size


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
