"""The primitives over both submission routes give the same answers.

A service that has retired ``POST /run`` (the emulator with ``run_route="retired"``) is driven
through ``route="auto"`` (which must find out once and move to ``/flow``) and
``route="flow"``; the answers are compared with the same seeded workloads on ``POST /run``
(the session's emulator, ``route="run"``) and with Qiskit's reference primitives.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import plain_http
import pytest
from qiskit.circuit import ClassicalRegister, Parameter, QuantumCircuit, QuantumRegister
from qiskit.primitives import StatevectorEstimator, StatevectorSampler
from qiskit.quantum_info import SparsePauliOp
from shared_circuits import bell, ghz

from qiskit_haiqu import HaiquClient, HaiquEstimator, HaiquSampler
from qiskit_haiqu.api.models import HybridJob, RunJob
from qiskit_haiqu.cli import main
from qiskit_haiqu.emulator import EmulatorServer, EmulatorSettings

API_KEY = "test-key-123"
SEED = {"device_options": {"seed_simulator": 1234}}


@pytest.fixture(scope="module")
def retired() -> Iterator[EmulatorServer]:
    """A service without ``POST /run`` (fault injection on, for the lost-reply tests)."""
    settings = EmulatorSettings(api_keys=(API_KEY,), run_route="retired", enable_faults=True)
    with EmulatorServer(settings) as server:
        yield server


@pytest.fixture(params=["auto", "flow"])
def flow_client(request: pytest.FixtureRequest, retired: EmulatorServer) -> Iterator[HaiquClient]:
    """A client that reaches ``/flow`` on its own (``auto``) or by choice (``flow``)."""
    with HaiquClient(url=retired.url, api_key=API_KEY, route=request.param) as client:
        yield client


@pytest.fixture
def run_client(emulator: EmulatorServer) -> Iterator[HaiquClient]:
    """The reference: a client that submits to ``POST /run`` only."""
    with HaiquClient(url=emulator.url, api_key=API_KEY, route="run") as client:
        yield client


def _log(server: EmulatorServer) -> list[tuple[str, str, int]]:
    entries = plain_http.get(f"{server.url}/_emulator/requests").json()
    return [(e["method"], e["path"], e["status"]) for e in entries]


def _clear(server: EmulatorServer) -> None:
    plain_http.delete(f"{server.url}/_emulator/requests").raise_for_status()


def _posts(server: EmulatorServer) -> list[tuple[str, int]]:
    """The submissions the server received: ``POST /run`` and ``POST /flow``, with statuses."""
    return [
        (path, status)
        for method, path, status in _log(server)
        if method == "POST" and path in ("/run", "/flow")
    ]


def _hybrid(client: HaiquClient, job_id: str) -> list[HybridJob]:
    jobs = [client.get_job(part) for part in job_id.split(";")]
    assert all(isinstance(job, HybridJob) for job in jobs), [type(j).__name__ for j in jobs]
    return jobs  # type: ignore[return-value]


def _sampler_pubs() -> list[Any]:
    theta = Parameter("theta")
    registers = QuantumCircuit(
        QuantumRegister(3, "q"), ClassicalRegister(1, "low"), ClassicalRegister(2, "wide")
    )
    registers.rx(theta, 0)
    registers.x(2)
    registers.measure(0, 0)
    registers.measure([1, 2], [1, 2])
    sweep = np.array([[0.0, np.pi, 0.3], [np.pi / 2, 2.0, np.pi]])[..., None]  # shape (2, 3)
    return [(registers, sweep), bell(), (ghz(3), None, 50)]


def _counts(result: Any) -> list[dict[str, list[dict[str, int]]]]:
    return [
        {
            name: [pub.data[name][index].get_counts() for index in np.ndindex(pub.data.shape)]
            for name in pub.data
        }
        for pub in result
    ]


def _estimator_pubs() -> list[Any]:
    ansatz = QuantumCircuit(2)
    ansatz.ry(Parameter("a"), 0)
    ansatz.rx(Parameter("b"), 1)
    ansatz.cx(0, 1)
    observables = [[SparsePauliOp("ZZ")], [SparsePauliOp(["XI", "IZ"], [0.5, -1.0])]]  # (2, 1)
    values = np.array([[0.1, 0.2], [1.0, -0.5], [2.5, 0.7]])  # (3,) -> broadcast to (2, 3)
    return [
        (ansatz, observables, values),
        (ghz(3, measure=False), "ZZZ"),
        (ghz(2, measure=False), "XX"),
    ]


def test_auto_tries_run_once_then_stays_on_flow(retired):
    with HaiquClient(url=retired.url, api_key=API_KEY, route="auto") as client:
        sampler = HaiquSampler("aer_simulator", client=client)
        _clear(retired)
        first = sampler.run([bell()], shots=64)
        assert client.submission_route == "flow"
        assert sum(first.result()[0].data.meas.get_counts().values()) == 64
        assert _posts(retired)[-2:] == [("/run", 404), ("/flow", 200)]
        assert [p for p in _posts(retired) if p[0] == "/run"] == [("/run", 404)]
        _clear(retired)
        HaiquEstimator("aer_simulator", client=client).run([(bell(), "ZZ")]).result()
        sampler.run([bell()]).result()
        assert [path for path, _ in _posts(retired)] == ["/flow", "/flow"]
        _hybrid(client, first.job_id())


def test_flow_route_never_posts_run(retired):
    with HaiquClient(url=retired.url, api_key=API_KEY, route="flow") as client:
        _clear(retired)
        HaiquSampler("aer_simulator", client=client).run([bell()]).result()
    assert "/run" not in {path for path, _ in _posts(retired)}


def test_sampler_registers_and_sweeps_match_run_and_the_reference(flow_client, run_client):
    pubs = _sampler_pubs()
    job = HaiquSampler("aer_simulator", client=flow_client, options=SEED).run(pubs, shots=200)
    ours = job.result()
    on_run = HaiquSampler("aer_simulator", client=run_client, options=SEED).run(pubs, shots=200)
    assert _counts(ours) == _counts(on_run.result())
    # Deterministic outcomes agree with Qiskit's own sampler.
    reference = StatevectorSampler(seed=1).run(pubs, shots=200).result()
    assert [list(r.data.keys()) for r in ours] == [list(r.data.keys()) for r in reference]
    assert [r.data.wide.shape for r in (ours[0], reference[0])] == [(2, 3), (2, 3)]
    assert ours[0].data.wide.get_counts() == reference[0].data.wide.get_counts()
    assert ours[0].data.low[0, 1].get_counts() == {"1": 200}
    assert set(ours[1].data.meas.get_counts()) == {"00", "11"}
    assert ours[2].data.meas.num_shots == 50
    assert set(ours[2].data.meas.get_counts()) == {"000", "111"}
    assert len(_hybrid(flow_client, job.job_id())) == len(ours.metadata["haiqu_job_ids"])


def test_estimator_sweeps_match_run_and_the_reference(flow_client, run_client):
    pubs = _estimator_pubs()
    options = {**SEED, "default_precision": 0.02}
    job = HaiquEstimator("aer_simulator", client=flow_client, options=options).run(pubs)
    ours = job.result()
    theirs = HaiquEstimator("aer_simulator", client=run_client, options=options).run(pubs)
    reference = StatevectorEstimator().run(pubs).result()
    for mine, on_run, exact in zip(ours, theirs.result(), reference, strict=True):
        assert mine.data.evs.shape == exact.data.evs.shape
        np.testing.assert_array_equal(mine.data.evs, on_run.data.evs)
        np.testing.assert_array_equal(mine.data.stds, on_run.data.stds)
        np.testing.assert_allclose(mine.data.evs, exact.data.evs, atol=0.1)
    assert ours[0].data.evs.shape == (2, 3)
    _hybrid(flow_client, job.job_id())


def test_mitigation_on_a_fake_device_matches_run(flow_client, run_client):
    pubs = [bell(), ghz(3)]
    # On /flow the distribution layer mitigates unless told not to: off must stay off.
    for mitigate, switches in ((False, {}), (True, {}), (True, {"readout_mitigation": False})):
        options = {**SEED, "use_mitigation": mitigate, "error_mitigation_options": switches}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # quasi-probabilities
            ours = HaiquSampler("fake_manila", client=flow_client, options=options)
            theirs = HaiquSampler("fake_manila", client=run_client, options=options)
            mine, reference = (
                ours.run(pubs, shots=500).result(),
                theirs.run(pubs, shots=500).result(),
            )
        assert _counts(mine) == _counts(reference)
        assert [r.metadata.get("quasi_dists") for r in mine] == [
            r.metadata.get("quasi_dists") for r in reference
        ]
    estimator_options = {**SEED, "use_mitigation": True, "default_precision": 0.03}
    ours_ev = HaiquEstimator("fake_manila", client=flow_client, options=estimator_options)
    theirs_ev = HaiquEstimator("fake_manila", client=run_client, options=estimator_options)
    observable = [(ghz(3, measure=False), ["ZZI", "IZZ"])]
    np.testing.assert_array_equal(
        ours_ev.run(observable).result()[0].data.evs,
        theirs_ev.run(observable).result()[0].data.evs,
    )


def test_a_dry_run_estimates_the_same_cost(flow_client, run_client):
    options = {"dry_run": True}
    ours = HaiquSampler("aer_simulator", client=flow_client, options=options).run([bell()]).result()
    theirs = (
        HaiquSampler("aer_simulator", client=run_client, options=options).run([bell()]).result()
    )
    assert ours.metadata["dry_run"] is True
    assert list(ours.metadata["estimated_qpu_cost"].values()) == list(
        theirs.metadata["estimated_qpu_cost"].values()
    )
    [job] = _hybrid(flow_client, ours.metadata["haiqu_job_ids"][0])
    assert job.dry_run is True


def test_reattaching_to_hybrid_jobs_gives_the_same_results(flow_client, retired):
    sampler_job = HaiquSampler("aer_simulator", client=flow_client).run(_sampler_pubs(), shots=80)
    estimator_job = HaiquEstimator("aer_simulator", client=flow_client).run(_estimator_pubs())
    sampled, estimated = sampler_job.result(), estimator_job.result()
    # Another client, even one pinned to /run, reads them back: reading never posts a run.
    with HaiquClient(url=retired.url, api_key=API_KEY, route="run") as other:
        again = HaiquSampler("aer_simulator", client=other).job(sampler_job.job_id()).result()
        evs = HaiquEstimator("aer_simulator", client=other).job(estimator_job.job_id()).result()
    assert _counts(again) == _counts(sampled)
    for mine, theirs in zip(evs, estimated, strict=True):
        np.testing.assert_array_equal(mine.data.evs, theirs.data.evs)
        np.testing.assert_array_equal(mine.data.stds, theirs.data.stds)
    for job in _hybrid(flow_client, sampler_job.job_id()):
        assert "[qhc:" in (job.description or "")  # the decoding context survived /flow


def test_a_split_run_reassembles_hybrid_jobs_in_order(flow_client, run_client):
    pubs = [(ghz(n), None, 40) for n in (2, 3, 4)] + [bell()]
    options = {**SEED, "max_circuits_per_job": 1}
    job = HaiquSampler("aer_simulator", client=flow_client, options=options).run(pubs)
    ours = job.result()
    theirs = HaiquSampler("aer_simulator", client=run_client, options=options).run(pubs).result()
    assert len(job.job_id().split(";")) == 4
    assert len(_hybrid(flow_client, job.job_id())) == 4
    assert _counts(ours) == _counts(theirs)
    assert [set(r.data.meas.get_counts()) for r in ours[:3]] == [
        {"00", "11"},
        {"000", "111"},
        {"0000", "1111"},
    ]


def test_listing_and_the_cli_read_hybrid_jobs(flow_client, retired, capsys):
    job = HaiquSampler("aer_simulator", client=flow_client).run([bell()], shots=30)
    job.result()
    experiment = flow_client.init_experiment("qiskit-haiqu")
    listed = {j.id: j for j in flow_client.list_jobs(experiment.id, limit=1000)}
    assert isinstance(listed[job.job_id()], HybridJob)
    assert isinstance(listed[job.job_id()], RunJob)  # everything that reads run jobs reads it
    common = ["--url", retired.url, "--api-key", API_KEY]
    assert main(["job", job.job_id(), *common]) == 0
    assert "Done" in capsys.readouterr().out
    assert main(["result", job.job_id(), *common, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["shots"] == 30
    assert {r["outcome"] for r in payload["records"]} <= {"00", "11"}
    assert sum(r["count"] for r in payload["records"]) == 30


@pytest.mark.parametrize(
    ("action", "posts"),
    [
        ("drop_after", 1),  # the job was created, the reply lost: found, not resubmitted
        ("drop", 2),  # the request never reached the handler: resubmitted once
    ],
)
def test_a_lost_flow_reply_gives_exactly_one_job(retired, action, posts):
    with HaiquClient(url=retired.url, api_key=API_KEY, route="flow") as client:
        sampler = HaiquSampler("aer_simulator", client=client)
        sampler.run([bell()]).result()
        experiment = client.init_experiment("qiskit-haiqu")
        before = {j.id for j in client.list_jobs(experiment.id, limit=1000)}
        _clear(retired)
        rule = {"method": "POST", "path": "^/flow$", "action": action, "count": 1}
        plain_http.post(f"{retired.url}/_emulator/faults", json=[rule]).raise_for_status()
        try:
            job = sampler.run([bell()], shots=300)
            counts = job.result()[0].data.meas.get_counts()
        finally:
            plain_http.delete(f"{retired.url}/_emulator/faults").raise_for_status()
        after = {j.id for j in client.list_jobs(experiment.id, limit=1000)}
    assert [path for path, _ in _posts(retired)].count("/flow") == posts
    assert after - before == {job.job_id()}
    assert sum(counts.values()) == 300
