"""Decoding reply bodies, with a job's result rows kept as their JSON text until read.

A sampler job's ``quantum_results`` hold one ``{bitstring: probability}`` object per
parameter row; a big job's are most of a reply of tens or hundreds of megabytes. Decoded all
at once they are several times the reply's size in Python dicts, alive together. Here the
body is parsed by msgspec (the whole body is still checked to be valid JSON), every field but
``quantum_results`` is decoded as usual, and an array of objects inside ``quantum_results``
becomes :class:`RawRows`: a read-only sequence that keeps each row's JSON text (a zero-copy
view of the body) and decodes a row each time it is read, never keeping it. A reader going
through the rows one at a time holds the body, one row and its own output.

The values decoded are the ones a plain JSON decode gives (``dict``, ``list``, ``str``,
``int``, ``float``, ``bool``, ``None``): only when they are decoded changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import msgspec

__all__ = ["RawRows", "decode_body", "decode_jobs", "plain"]

_ANY = msgspec.json.Decoder()
_FIELDS = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])
_JOBS = msgspec.json.Decoder(list[msgspec.Raw])
_RESULTS = "quantum_results"
_WHITESPACE = b" \t\r\n"
_OBJECT = ord("{")
_ARRAY = ord("[")
_ROW_DEPTH = 2
"""How deep under ``quantum_results`` arrays of rows are looked for (circuit, then basis)."""


class RawRows(Sequence[Any]):
    """Result rows (JSON objects) kept as JSON text; each is decoded whenever it is read.

    Reading an item gives a new ``dict`` each time (changing it changes nothing here). It
    compares equal to any sequence of equal items, copies as itself and pickles as a
    ``list``.
    """

    __slots__ = ("_raws",)

    def __init__(self, raws: Sequence[msgspec.Raw]) -> None:
        """Rows from their JSON texts (each one object)."""
        self._raws = raws

    def __len__(self) -> int:
        return len(self._raws)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> RawRows: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return RawRows(self._raws[index])
        return _ANY.decode(self._raws[index])

    def __iter__(self) -> Iterator[Any]:
        for raw in self._raws:
            yield _ANY.decode(raw)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RawRows):
            return len(self) == len(other) and all(
                bytes(a) == bytes(b) or _ANY.decode(a) == _ANY.decode(b)
                for a, b in zip(self._raws, other._raws, strict=True)
            )
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # equal to lists, which are unhashable

    def __repr__(self) -> str:
        return repr(list(self))

    def __copy__(self) -> RawRows:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> RawRows:
        return self

    def __reduce__(self) -> tuple[type[list[Any]], tuple[list[Any]]]:
        return list, (list(self),)


def decode_body(content: bytes) -> Any:
    """The JSON value of a body (``None`` when it is not JSON), with a job object's result
    rows kept as :class:`RawRows`."""
    try:
        fields = _FIELDS.decode(content)
    except msgspec.DecodeError:
        return _plain_or_none(content)
    return _job_fields(fields)


def decode_jobs(content: bytes) -> Any:
    """A job listing's JSON (``None`` when it is not JSON): each job object as
    :func:`decode_body` gives it, anything else as it is."""
    try:
        items = _JOBS.decode(content)
    except msgspec.DecodeError:
        return _plain_or_none(content)
    return [_job_item(item) for item in items]


def plain(value: Any, depth: int = 0) -> Any:
    """``value`` (``quantum_results``) with every :class:`RawRows` in it decoded as a list.

    Values without rows come back as they are (nothing is copied).
    """
    if isinstance(value, RawRows):
        return list(value)
    if not isinstance(value, list) or depth >= _ROW_DEPTH:
        return value
    items = [plain(item, depth + 1) for item in value]
    return value if all(a is b for a, b in zip(items, value, strict=True)) else items


def _plain_or_none(content: bytes) -> Any:
    try:
        return _ANY.decode(content)
    except msgspec.DecodeError:
        return None


def _job_item(raw: msgspec.Raw) -> Any:
    if _first_byte(raw) != _OBJECT:
        return _ANY.decode(raw)
    return _job_fields(_FIELDS.decode(raw))


def _job_fields(fields: dict[str, msgspec.Raw]) -> dict[str, Any]:
    """An object's fields decoded, ``quantum_results`` with its result rows as raw text."""
    return {
        key: _results(raw) if key == _RESULTS else _ANY.decode(raw) for key, raw in fields.items()
    }


def _results(raw: msgspec.Raw) -> Any:
    """``quantum_results``: a list (when it is an array) whose arrays of objects are rows."""
    if _first_byte(raw) != _ARRAY:
        return _ANY.decode(raw)
    return [_entry(item, 1) for item in _ITEMS.decode(raw)]


def _entry(raw: msgspec.Raw, depth: int) -> Any:
    """One value under ``quantum_results``: :class:`RawRows` for an array of objects."""
    if _first_byte(raw) != _ARRAY:
        return _ANY.decode(raw)
    inner = _first_byte(raw, 1)
    if inner == _OBJECT:
        items = _ITEMS.decode(raw)
        if all(_first_byte(item) == _OBJECT for item in items):
            return RawRows(items)
    elif inner == _ARRAY and depth < _ROW_DEPTH:
        return [_entry(item, depth + 1) for item in _ITEMS.decode(raw)]
    return _ANY.decode(raw)


def _first_byte(raw: msgspec.Raw, after: int = 0) -> int | None:
    """The first non-blank byte of ``raw`` from offset ``after`` (``None`` if there is none).

    msgspec gives a value's text without surrounding blanks, so this is the character that
    says what kind of value it is (``after=1``: the first item of an array).
    """
    view = memoryview(raw)
    for index in range(after, len(view)):
        byte = view[index]
        if byte not in _WHITESPACE:
            return int(byte)
    return None
