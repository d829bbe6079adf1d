"""Client CPU per VQE iteration, with a service that answers instantly.

Target (issue 14): one ``HaiquEstimator`` iteration of the VQE loop (8 qubits, 30-term
Hamiltonian, precision 0.01) costs the client <= 1 ms of CPU beyond Qiskit's own
``EstimatorPub.coerce`` of the same pub (which any V2 estimator pays; it is the reference,
timed alone in the same run). The client is the real one: a ``HaiquClient`` on an
``httpx.MockTransport`` that answers ``POST /run`` and ``GET /jobs/{id}`` at once with
replies recorded from the emulator (the set-up requests of the first iteration go to the
emulator's app in-process). CPU is this thread's (``time.thread_time``); the client does all
its work in the calling thread. A profiled pass shows where the client's time goes.
Run: ``python -m bench.client_cpu [--quick]``.
"""

from __future__ import annotations

import cProfile
import pstats
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import numpy as np
import orjson
from qiskit.circuit.library import efficient_su2
from qiskit.primitives.containers.estimator_pub import EstimatorPub

from bench._common import parse_args, record, report, report_targets
from bench.vqe import PRECISION, QUBITS, TERMS, hamiltonian, parameter_path
from qiskit_haiqu import HaiquClient, HaiquEstimator
from qiskit_haiqu.api.transport import Transport
from qiskit_haiqu.emulator.app import create_app

with warnings.catch_warnings():  # starlette would rather use httpx2; httpx is what we have
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

URL = "http://127.0.0.1"  # never opened: every request is answered in-process


class CannedService:
    """Forwards requests to the emulator's app until ``freeze()``; then answers ``POST /run``
    and ``GET /jobs/{id}`` with the last replies recorded, and refuses anything else."""

    def __init__(self, app: Any) -> None:
        self._app = TestClient(app, base_url=URL)
        self._run: bytes | None = None
        self.run_body = b""
        self._job: bytes | None = None
        self.frozen = False
        self.unexpected: list[str] = []
        self.reply_cpu = 0.0
        """CPU seconds this thread spent making canned replies (the service's share)."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The transport's handler."""
        path = request.url.path
        if self.frozen:
            start = time.thread_time()
            try:
                return self._canned(request.method, path)
            finally:
                self.reply_cpu += time.thread_time() - start
        reply = self._app.request(
            request.method,
            str(request.url),
            content=request.read(),
            headers=dict(request.headers),
        )
        if request.method == "POST" and path == "/run":
            self._run = reply.content
            self.run_body = request.content
        elif path.startswith("/jobs/") and reply.json().get("status") == "Done":
            done = reply.json()
            done["finish_date"] = done["run_date"] = done["creation_date"]  # no service time
            self._job = orjson.dumps(done)
        return httpx.Response(reply.status_code, content=reply.content, headers=_JSON)

    def _canned(self, method: str, path: str) -> httpx.Response:
        """The recorded reply to a frozen request."""
        if method == "POST" and path == "/run":
            return httpx.Response(200, content=self._run, headers=_JSON)
        if method == "GET" and path.startswith("/jobs/"):
            return httpx.Response(200, content=self._job, headers=_JSON)
        self.unexpected.append(f"{method} {path}")
        return httpx.Response(500, json={"detail": "not canned"})

    def freeze(self) -> None:
        """Answer from the recorded replies from now on."""
        if self._run is None or self._job is None:
            raise RuntimeError("no POST /run and Done GET /jobs reply recorded yet")
        self.frozen = True


_JSON = {"content-type": "application/json"}


def _profile_lines(
    profile: cProfile.Profile, total: float, iterations: int, lines: int = 14
) -> list[tuple[str, str]]:
    """The client's functions that took most time (cumulative): per iteration, and as a share
    of the profiled loop's ``total`` seconds."""
    found = []
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    for (filename, line, name), timing in stats.items():
        if "qiskit_haiqu" in filename or "estimator_pub" in filename:
            where = filename.split("site-packages/")[-1].split("qiskit_haiqu/")[-1]
            found.append((float(timing[3]), f"{where}:{line} {name}"))
    found.sort(reverse=True)
    return [
        (f"  {label[-80:]}", f"{seconds / iterations * 1e3:.3f} ms/it ({seconds / total:.0%})")
        for seconds, label in found[:lines]
    ]


def in_place_split(
    run_one: Callable[[Any], object], service: CannedService, path: Sequence[Any] | np.ndarray
) -> dict[str, float]:
    """CPU per iteration (ms) of each part of ``run_one``, timed where it runs.

    Qiskit's ``EstimatorPub.coerce`` called inside ``run()``, the requests
    (``Transport._attempt``: httpx and the canned replies), the canned replies alone, and the
    client's own rest. Each part is wrapped in ``thread_time`` for this pass only: the loop's
    other work slows a part down against timing it alone (coerce about 2x here).
    """
    spent = {"coerce": 0.0, "requests": 0.0}

    def timed(part: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[part] += time.thread_time() - start

        return call

    coerce = EstimatorPub.__dict__["coerce"]
    attempt = Transport.__dict__["_attempt"]
    EstimatorPub.coerce = classmethod(timed("coerce", coerce.__func__))
    Transport._attempt = timed("requests", attempt)  # type: ignore[method-assign]
    replies_before = service.reply_cpu
    try:
        start = time.thread_time()
        for x in path:
            run_one(x)
        total = time.thread_time() - start
    finally:
        EstimatorPub.coerce = coerce
        Transport._attempt = attempt  # type: ignore[method-assign]
    per_it = 1e3 / len(path)
    return {
        "total": total * per_it,
        "coerce": spent["coerce"] * per_it,
        "requests": spent["requests"] * per_it,
        "replies": (service.reply_cpu - replies_before) * per_it,
        "own": (total - spent["coerce"] - spent["requests"]) * per_it,
    }


def http_alone_ms(service: CannedService, iterations: int) -> float:
    """CPU per iteration of its two requests (``POST /run``, ``GET /jobs``) sent by a bare
    ``httpx.Client`` to the same frozen service: what httpx itself costs, the part of the
    client's time that stays as long as requests go through an ``httpx.Client``."""
    with httpx.Client(transport=httpx.MockTransport(service.handle), base_url=URL) as http:
        start = time.thread_time()
        for _ in range(iterations):
            http.post("/run", content=service.run_body, headers=_JSON).raise_for_status()
            http.get("/jobs/canned").raise_for_status()
        return (time.thread_time() - start) / iterations * 1e3


def main() -> None:
    args = parse_args(__doc__ or "")
    iterations = 5 if args.quick else 200
    ansatz = efficient_su2(QUBITS, reps=2)
    observable = hamiltonian()
    path = parameter_path(iterations, ansatz.num_parameters)

    start = time.thread_time()
    for x in path:
        EstimatorPub.coerce((ansatz, observable, x), precision=PRECISION)
    coerce_ms = (time.thread_time() - start) / iterations * 1e3

    service = CannedService(create_app())
    transport = httpx.MockTransport(service.handle)
    with HaiquClient(url=URL, api_key="bench", transport=transport) as client:
        estimator = HaiquEstimator(
            "aer_simulator", client=client, options={"default_precision": PRECISION}
        )
        estimator.run([(ansatz, observable, path[0])]).result()  # set-up, on the emulator
        estimator.run([(ansatz, observable, path[1])]).result()  # records a Done reply
        service.freeze()
        for x in path[:5]:  # warm
            estimator.run([(ansatz, observable, x)]).result()
        wall = time.perf_counter()
        start = time.thread_time()
        for x in path:
            estimator.run([(ansatz, observable, x)]).result()
        client_ms = (time.thread_time() - start) / iterations * 1e3
        wall_ms = (time.perf_counter() - wall) / iterations * 1e3
        profile = cProfile.Profile()
        profiled = time.perf_counter()
        profile.enable()
        for x in path:
            estimator.run([(ansatz, observable, x)]).result()
        profile.disable()
        profiled = time.perf_counter() - profiled
        split = in_place_split(
            lambda x: estimator.run([(ansatz, observable, x)]).result(), service, path
        )
    http_ms = http_alone_ms(service, iterations)
    if service.unexpected:
        raise RuntimeError(f"requests beyond POST /run and GET /jobs: {service.unexpected}")
    beyond = client_ms - coerce_ms
    report(
        f"client CPU per VQE iteration ({QUBITS} q, {TERMS} terms, instant canned replies, "
        f"{iterations} iterations)",
        [
            ("HaiquEstimator run().result(), CPU", f"{client_ms:.3f} ms/it"),
            ("  wall", f"{wall_ms:.3f} ms/it"),
            ("EstimatorPub.coerce alone (reference), CPU", f"{coerce_ms:.3f} ms/it"),
            ("beyond Qiskit's pub coercion", f"{beyond:.3f} ms/it"),
            ("its 2 requests through a bare httpx.Client (floor)", f"{http_ms:.3f} ms/it"),
            ("a pass timed part by part, in place (CPU per iteration)", ""),
            ("  in all", f"{split['total']:.3f} ms/it"),
            ("  EstimatorPub.coerce inside run()", f"{split['coerce']:.3f} ms/it"),
            (
                "  the 2 requests (httpx, canned replies)",
                f"{split['requests']:.3f} ms/it (replies alone {split['replies']:.3f})",
            ),
            ("  the client's own steps", f"{split['own']:.3f} ms/it"),
            ("profiled pass: where the time goes (cumulative)", ""),
            *_profile_lines(profile, profiled, iterations),
        ],
    )
    report_targets(
        [
            record(
                f"client CPU per VQE iteration ({QUBITS} q, {TERMS} terms), instant transport",
                f"{beyond:.2f} ms beyond coerce ({client_ms:.2f} - {coerce_ms:.2f} ms; its 2 "
                f"requests through a bare httpx.Client alone: {http_ms:.2f} ms)",
                "<= 1 ms",
                beyond <= 1,
            )
        ]
    )


if __name__ == "__main__":
    main()
