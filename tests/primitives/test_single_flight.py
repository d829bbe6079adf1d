"""SingleFlight: one computation per key across threads; failures are not remembered."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from qiskit_haiqu.primitives.single_flight import SingleFlight


def test_concurrent_first_requests_share_one_call():
    memo: SingleFlight[str, int] = SingleFlight()
    calls = []
    start = threading.Barrier(8)

    def compute() -> int:
        calls.append(1)
        time.sleep(0.05)  # long enough that every thread arrives while it is in flight
        return 42

    def ask(_: int) -> int:
        start.wait()
        return memo.get("key", compute)

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(ask, range(8))) == [42] * 8
    assert len(calls) == 1
    assert memo.peek("key") == 42
    assert memo.computed() == {"key"}


def test_a_failure_reaches_every_waiter_and_is_not_remembered():
    memo: SingleFlight[str, int] = SingleFlight()
    start = threading.Barrier(4)

    def fail() -> int:
        time.sleep(0.05)
        raise RuntimeError("service down")

    def ask(_: int) -> str:
        start.wait()
        try:
            memo.get("key", fail)
        except RuntimeError as exc:
            return str(exc)
        return "no error"

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(ask, range(4))) == ["service down"] * 4
    assert memo.peek("key") is None
    assert memo.get("key", lambda: 7) == 7


def test_different_keys_do_not_wait_for_each_other():
    memo: SingleFlight[int, int] = SingleFlight()
    gate = threading.Event()

    def slow() -> int:
        gate.wait(5)
        return 1

    with ThreadPoolExecutor(2) as pool:
        pending = pool.submit(memo.get, 1, slow)
        assert memo.get(2, lambda: 2) == 2  # answered while key 1 is still in flight
        gate.set()
        assert pending.result(5) == 1
    with pytest.raises(KeyError):
        memo.get(3, lambda: {}["missing"])


def test_clear_forgets_computed_values():
    memo: SingleFlight[str, int] = SingleFlight()
    assert memo.get("k", lambda: 1) == 1
    memo.clear()
    assert memo.peek("k") is None
    assert memo.get("k", lambda: 2) == 2
