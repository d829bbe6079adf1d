"""Big bodies read into one buffer of their announced length: the same bytes, half the peak."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from wire_samples import RUN_JOB

from qiskit_haiqu import HaiquClient, HaiquConnectionError, RetryPolicy
from qiskit_haiqu.api.models import RunJob

JOB = {
    **RUN_JOB,
    "id": "jb-1",
    "status": "Done",
    "circuit_ids": ["c-1"],
    "shots": 4,
    "parameters": [[0.1], [0.2]],
}
BIG_ROWS = [{format(k, "016b"): 1 / 40_000 for k in range(40_000)}, {"00": 0.5, "11": 0.5}]


class _Chunks(httpx.SyncByteStream):
    """A body sent in chunks, as a socket gives it (not read in advance, as mocks are)."""

    def __init__(self, body: bytes, size: int = 65_536) -> None:
        self._parts = [body[i : i + size] for i in range(0, len(body), size)]

    def __iter__(self) -> Iterator[bytes]:
        yield from self._parts


def _streaming_client(body: bytes, headers: dict[str, str], **kwargs: Any) -> HaiquClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, stream=_Chunks(body))

    return HaiquClient(
        url="https://x.test", api_key="k", transport=httpx.MockTransport(handler), **kwargs
    )


@pytest.mark.parametrize("encoding", [None, "identity"])
def test_a_big_body_is_read_into_one_buffer_with_the_same_values(encoding):
    body = orjson.dumps({**JOB, "quantum_results": [BIG_ROWS]})
    assert len(body) > 1 << 20
    headers = {"content-length": str(len(body))} | (
        {"content-encoding": encoding} if encoding else {}
    )
    seen: list[Any] = []
    with _streaming_client(body, headers) as client:
        client._transport.http.event_hooks["response"].append(seen.append)
        job = client.get_job("jb-1")
    assert isinstance(job, RunJob)
    assert job.quantum_results == [BIG_ROWS]
    assert type(seen[0].content) is bytearray
    assert seen[0].content == body


@pytest.mark.parametrize(
    "headers",
    [{}, {"content-length": "12x"}, {"content-encoding": "gzip", "content-length": "1"}],
    ids=["no length", "bad length", "encoded"],
)
def test_a_body_without_a_plain_length_is_read_as_usual(headers):
    body = orjson.dumps({**JOB, "quantum_results": [BIG_ROWS]})
    if "content-encoding" in headers:
        body = gzip.compress(body)
        headers = headers | {"content-length": str(len(body))}
    with _streaming_client(body, headers) as client:
        job = client.get_job("jb-1")
    assert isinstance(job, RunJob)
    assert job.quantum_results == [BIG_ROWS]


def test_a_body_longer_than_announced_is_a_connection_failure():
    body = orjson.dumps({**JOB, "quantum_results": [BIG_ROWS]})
    headers = {"content-length": str(len(body) - 10)}
    retry = RetryPolicy(max_attempts=1)
    with (
        _streaming_client(body, headers, retry=retry) as client,
        pytest.raises(HaiquConnectionError, match="longer than its Content-Length"),
    ):
        client.get_job("jb-1")
