"""Decoding reply bodies, with a job's result rows kept as their JSON text until read.

A sampler job's ``quantum_results`` hold one ``{bitstring: probability}`` object per
parameter row; a big job's are most of a reply of tens or hundreds of megabytes. Decoded all
at once they are several times the reply's size in Python dicts, alive together. Here the
body is parsed by msgspec in one pass (the whole body is still checked to be valid JSON):
every field a job model knows is decoded as usual (others are left out: the models ignore
them), and an array of objects inside ``quantum_results`` becomes :class:`RawRows`: a
read-only sequence that keeps each row's JSON text (a zero-copy view of the body) and
decodes a row each time it is read, never keeping it. A reader going through the rows one
at a time holds the body, one row and its own output.

The values decoded are the ones a plain JSON decode gives (``dict``, ``list``, ``str``,
``int``, ``float``, ``bool``, ``None``): only when they are decoded changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from types import GenericAlias
from typing import Any, overload

import msgspec

__all__ = ["JobBodies", "RawRows", "plain"]

_ANY = msgspec.json.Decoder()
_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])
_RESULTS = "quantum_results"
_RESULTS_TYPE = list[list[msgspec.Raw] | dict[str, Any] | str | int | float | bool | None] | None
"""``quantum_results`` in the one pass over a body: each circuit's array split into items."""
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


class JobBodies:
    """Decodes job replies and listings in one pass, their result rows kept as text.

    Only the fields named (the job models' fields) are kept: the models ignore any other. A
    body the one pass cannot type (a ``quantum_results`` that is not an array, a listing
    item of another kind) is decoded as plain JSON instead, so every body reads as before.
    """

    def __init__(self, fields: Iterable[str]) -> None:
        """Decoders of jobs with the given fields (``quantum_results`` among them)."""
        names = sorted({*fields, _RESULTS})
        job = msgspec.defstruct(
            "JobFields",
            [(name, _RESULTS_TYPE if name == _RESULTS else Any, msgspec.UNSET) for name in names],
        )
        item: Any = job | list[Any] | str | int | float | bool | None
        self._names = names
        self._job = msgspec.json.Decoder(job)
        self._listing = msgspec.json.Decoder(GenericAlias(list, (item,)))

    def job(self, content: bytes) -> Any:
        """A job reply's JSON (``None`` when it is not JSON), rows as :class:`RawRows`."""
        try:
            return self._fields(self._job.decode(content))
        except msgspec.ValidationError:
            return _plain_or_none(content)
        except msgspec.DecodeError:
            return None

    def listing(self, content: bytes) -> Any:
        """A job listing's JSON (``None`` when it is not JSON): each job object as
        :meth:`job` gives it, anything else as it is."""
        try:
            items = self._listing.decode(content)
        except msgspec.ValidationError:
            return _plain_or_none(content)
        except msgspec.DecodeError:
            return None
        return [item if isinstance(item, _PLAIN) else self._fields(item) for item in items]

    def _fields(self, job: Any) -> dict[str, Any]:
        """The fields a body has, ``quantum_results`` with its rows as :class:`RawRows`."""
        fields = {}
        for name in self._names:
            value = getattr(job, name)
            if value is not msgspec.UNSET:
                fields[name] = _results(value) if name == _RESULTS else value
        return fields


_PLAIN = (list, str, int, float, bool, type(None))


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


def _results(value: list[Any] | None) -> list[Any] | None:
    """``quantum_results`` as split by the one pass: each circuit's array made rows."""
    if value is None:
        return None
    return [_items(entry, 1) if isinstance(entry, list) else entry for entry in value]


def _items(raws: list[msgspec.Raw], depth: int) -> Any:
    """An array (its items' text): :class:`RawRows` if they are all objects."""
    kinds = {_first_byte(raw) for raw in raws}
    if kinds == {_OBJECT}:
        return RawRows(raws)
    if kinds == {_ARRAY} and depth < _ROW_DEPTH:
        return [_entry(raw, depth + 1) for raw in raws]
    return [_ANY.decode(raw) for raw in raws]


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
