"""The ``POST /flow`` body means what the ``POST /run`` body means, and the client's routes.

The body builder is pure and tested directly; the route choice (``auto`` moving to ``/flow``
on FastAPI's route-missing answer only, ``run``, ``flow``, ``$HAIQU_ROUTE``) and exactly-once
on ``/flow`` against a mock service. The primitives over both routes on the emulator are in
``tests/primitives/test_routes.py``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import orjson
import pytest
from wire_samples import RUN_JOB

from qiskit_haiqu import HaiquClient, HaiquConfigurationError, HaiquInputError, NotFoundError
from qiskit_haiqu.api.flow import CREDENTIAL_KEYS, flow_body
from qiskit_haiqu.api.models import HybridJob, HybridSubmit, RunJob, RunSubmit
from qiskit_haiqu.api.program import TRANSPILATION_FIELDS, program_problems
from qiskit_haiqu.api.retry import RetryPolicy
from qiskit_haiqu.errors import HaiquHTTPStatusError

# The sampler program haiqu-sdk 1.7.0 sends (haiqu-api.md §14): the keys, in its order.
SDK_SAMPLER_LAYERS: list[dict[str, Any]] = [
    {"type": "input"},
    {"type": "transpilation", **dict.fromkeys(TRANSPILATION_FIELDS)},
    {
        "type": "distribution_mitigation",
        "mitigation_enabled": False,
        "advanced_mitigation": True,
        "readout_mitigation": False,
        "noise_tailoring": True,
        "dynamical_decoupling": True,
        "readout_mitigation_options": {},
    },
    {"type": "device", "device_id": "aer_simulator", "options": {}, "auto_quality": False},
]
CREDENTIALS = {
    "aws_access_key_id": "AKIA-test",
    "aws_secret_access_key": "aws-secret-value",
    "aws_default_region": "eu-west-1",
    "aws_session_token": "aws-session-value",
    "ibm_quantum_token": "ibm-secret-value",
    "ibm_quantum_instance": "crn:instance",
    "iqm_token": "iqm-secret-value",
    "iqm_server_url": "https://iqm.example",
    "ionq_api_key": "ionq-secret-value",
}
SECRETS = ("aws-secret-value", "aws-session-value", "ibm-secret-value", "iqm-secret-value")


def _run(**fields: Any) -> dict[str, Any]:
    """The fields of a ``POST /run`` body, as the client holds them."""
    body = RunSubmit.model_construct(
        experiment_id="exp-1", circuit_ids=["circ-1"], device_id="aer_simulator", **fields
    )
    return dict(body.__dict__)


def _layer(body: dict[str, Any], kind: str) -> dict[str, Any]:
    [layer] = [layer for layer in body["program"]["layers"] if layer["type"] == kind]
    return layer


def _kinds(body: dict[str, Any]) -> list[str]:
    return [layer["type"] for layer in body["program"]["layers"]]


def _valid(body: dict[str, Any]) -> HybridSubmit:
    """``body`` as the service reads it; its program follows the SDK's rules."""
    hybrid = HybridSubmit.model_validate_json(
        orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), strict=True
    )
    assert program_problems(hybrid.program.layers) == []
    return hybrid


# -- the body ------------------------------------------------------------------------------


def test_a_sampler_run_has_the_sdk_layers_with_run_defaults_and_its_top_level_fields():
    rows = np.array([[0.1, 0.2], [0.3, 0.4]])
    run = _run(shots=321, parameters=rows, name="bell", description="mine [qh:1]", dry_run=False)
    body = flow_body(run)
    assert list(body) == [
        "experiment_id",
        "name",
        "description",
        "program",
        "circuit_ids",
        "shots",
        "parameters",
        "observables",
        "device_credentials",
        "dry_run",
    ]
    assert "readout_bases" not in body  # only when given
    assert (body["experiment_id"], body["name"], body["description"]) == (
        "exp-1",
        "bell",
        "mine [qh:1]",
    )
    assert (body["circuit_ids"], body["shots"], body["observables"]) == (["circ-1"], 321, None)
    assert body["parameters"] is rows  # passed through, serialised as numbers
    assert (body["device_credentials"], body["dry_run"]) == ({}, False)
    assert body["program"]["schema_version"] == 1
    layers = body["program"]["layers"]
    # The SDK's keys in the SDK's order; the switches are /run's, not /flow's defaults.
    assert [list(layer) for layer in layers] == [list(layer) for layer in SDK_SAMPLER_LAYERS]
    assert layers[2] == {
        **SDK_SAMPLER_LAYERS[2],
        "readout_mitigation": True,
        "noise_tailoring": False,
    }
    assert layers[:2] == SDK_SAMPLER_LAYERS[:2]
    assert layers[3] == SDK_SAMPLER_LAYERS[3]
    assert _valid(body).parameters == rows.tolist()


def test_observables_make_the_estimator_layer_with_every_switch_explicit():
    observables = [[(["ZZ", "XI"], [1.0, 0.5])]]
    body = flow_body(_run(observables=observables, use_mitigation=True))
    assert _kinds(body) == ["input", "transpilation", "estimator", "device"]
    assert _layer(body, "estimator") == {
        "type": "estimator",
        "mitigation_enabled": True,
        "advanced_mitigation": True,
        "readout_mitigation": True,
        "noise_tailoring": False,
        "dynamical_decoupling": True,
        "readout_mitigation_options": {},
    }
    assert body["observables"] is observables
    hybrid = _valid(body)
    # Read with the SDK's defaults, the layer still means /run's defaults: nothing was left out.
    assert hybrid.program.layers[2].model_dump() == _layer(body, "estimator")


@pytest.mark.parametrize("use_mitigation", [False, True])
def test_mitigation_enabled_is_use_mitigation_on_either_grouped_layer(use_mitigation):
    for observables in (None, [[(["Z"], [1.0])]]):
        body = flow_body(_run(use_mitigation=use_mitigation, observables=observables))
        layer = body["program"]["layers"][2]
        assert layer["mitigation_enabled"] is use_mitigation


def test_error_mitigation_options_override_the_run_defaults_switch_by_switch():
    chosen = {
        "noise_tailoring": True,
        "readout_mitigation": False,
        "readout_mitigation_options": {"method": "m3"},
    }
    run = _run(use_mitigation=True, options={"error_mitigation_options": chosen, "method": "mps"})
    body = flow_body(run)
    assert _layer(body, "distribution_mitigation") == {
        "type": "distribution_mitigation",
        "mitigation_enabled": True,
        "advanced_mitigation": True,
        "readout_mitigation": False,
        "noise_tailoring": True,
        "dynamical_decoupling": True,
        "readout_mitigation_options": {"method": "m3"},
    }
    assert _layer(body, "device")["options"] == {"method": "mps"}
    assert run["options"]["error_mitigation_options"] == chosen  # the run is not changed


def test_credentials_move_to_device_credentials_and_out_of_the_device_options():
    options = {**CREDENTIALS, "use_fractional_gates": True, "seed_simulator": 3}
    body = flow_body(_run(options=options, dry_run=True))
    assert set(CREDENTIAL_KEYS) == set(CREDENTIALS)
    assert body["device_credentials"] == CREDENTIALS
    assert _layer(body, "device")["options"] == {"use_fractional_gates": True, "seed_simulator": 3}
    program = orjson.dumps(body["program"]).decode()
    assert not [secret for secret in SECRETS if secret in program]
    assert body["dry_run"] is True
    assert options["ibm_quantum_token"] == "ibm-secret-value"  # the caller's dict is untouched
    assert "ibm-secret-value" not in repr(_valid(body))


@pytest.mark.parametrize(("skip", "present"), [(True, False), (False, True), (None, True)])
def test_the_transpilation_layer_is_left_out_only_with_skip_transpilation(skip, present):
    options = {"noise_model": {"errors": []}} if skip is None else {"skip_transpilation": skip}
    body = flow_body(_run(options=options))
    assert ("transpilation" in _kinds(body)) is present
    device_options = _layer(body, "device")["options"]
    assert "skip_transpilation" not in device_options
    if skip is None:
        assert device_options == {"noise_model": {"errors": []}}
    _valid(body)


def test_pipeline_options_become_layers_as_the_sdk_splits_them():
    options = {
        "use_packing": True,
        "pack_size": 3,
        "transpilation_options": {"optimization_level": 1, "seed_transpiler": 7, "custom": "x"},
        "auto_quality": True,
        "method": "matrix_product_state",
    }
    body = flow_body(_run(options=options))
    assert _kinds(body) == [
        "input",
        "packing",
        "transpilation",
        "distribution_mitigation",
        "device",
    ]
    assert _layer(body, "packing") == {"type": "packing", "pack_size": 3}
    transpilation = _layer(body, "transpilation")
    assert transpilation["optimization_level"] == 1
    assert transpilation["seed_transpiler"] == 7
    assert transpilation["custom"] == "x"  # forwarded to Qiskit, as the SDK does
    assert transpilation["basis_gates"] is None
    device = _layer(body, "device")
    assert device == {
        "type": "device",
        "device_id": "aer_simulator",
        "options": {"method": "matrix_product_state"},
        "auto_quality": True,
    }
    no_packing = flow_body(_run(options={"use_packing": False}))
    assert "packing" not in _kinds(no_packing)
    assert _layer(no_packing, "device")["options"] == {}
    _valid(body)


def test_readout_bases_add_a_readout_basis_layer_and_travel_at_the_top_level():
    body = flow_body(_run(readout_bases=["XZ", "ZZ"]))
    assert _kinds(body) == [
        "input",
        "transpilation",
        "readout_basis",
        "distribution_mitigation",
        "device",
    ]
    assert body["readout_bases"] == ["XZ", "ZZ"]
    _valid(body)


def test_a_statevector_run_is_input_then_statevector_with_one_shot():
    body = flow_body(_run(run_type="StatevectorRun", shots=1024, options={"iqm_token": "t"}))
    assert body["program"] == {
        "schema_version": 1,
        "layers": [{"type": "input"}, {"type": "statevector"}],
    }
    assert body["shots"] == 1
    assert body["device_credentials"] == {"iqm_token": "t"}
    _valid(body)


@pytest.mark.parametrize("key", ["error_mitigation_options", "transpilation_options"])
def test_a_pipeline_option_that_is_not_an_object_is_refused_by_name(key):
    with pytest.raises(HaiquInputError, match=key):
        flow_body(_run(options={key: "yes"}))


# -- the routes ----------------------------------------------------------------------------

Answer = Callable[[httpx.Request], httpx.Response]


def _hybrid_reply(request: httpx.Request) -> httpx.Response:
    """A Hybrid job echoing a ``/flow`` request, as the service answers it (no credentials)."""
    sent = orjson.loads(request.content)
    return httpx.Response(
        200,
        json={
            "id": "jb-flow",
            "user_id": 1,
            "experiment_id": sent["experiment_id"],
            "status": "Submitted",
            "job_type": "Hybrid",
            "creation_date": "2026-01-01T00:00:00Z",
            "description": sent["description"],
            "input_circuit_ids": sent["circuit_ids"],
            "program": sent["program"],
            "shots": sent["shots"],
            "dry_run": sent["dry_run"],
        },
    )


class Service:
    """A mock service: ``answers`` maps ``"METHOD path"`` to a function of the request."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    def handler(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
        return self.answers[f"{request.method} {request.url.path}"](request)

    def client(self, **kwargs: Any) -> HaiquClient:
        return HaiquClient(
            url="https://x.test",
            api_key="k",
            transport=httpx.MockTransport(self.handler),
            retry=RetryPolicy(sleep=lambda _: None),
            **kwargs,
        )

    def posts(self) -> list[str]:
        return [r.url.path for r in self.requests if r.method == "POST"]


def _route_gone(status: int = 404, detail: str = "Not Found") -> Answer:
    return lambda request: httpx.Response(status, json={"detail": detail})


BODY = RunSubmit.model_construct(
    experiment_id="exp-1", circuit_ids=["circ-1"], device_id="aer_simulator", shots=10
)


@pytest.mark.parametrize(("status", "detail"), [(404, "Not Found"), (405, "Method Not Allowed")])
def test_auto_moves_to_flow_for_good_when_run_is_gone(status, detail, caplog):
    service = Service({"POST /run": _route_gone(status, detail), "POST /flow": _hybrid_reply})
    with service.client() as client, caplog.at_level(logging.INFO, logger="qiskit_haiqu"):
        assert (client.route, client.submission_route) == ("auto", "run")
        first = client.submit_run(BODY)
        second = client.submit_run(BODY)
        assert client.submission_route == "flow"
    assert isinstance(first, HybridJob)
    assert isinstance(second, HybridJob)
    assert (first.circuit_ids, first.device_id, first.run_type) == (
        ["circ-1"],
        "aer_simulator",
        "Run",
    )
    assert service.posts() == ["/run", "/flow", "/flow"]
    moved = [r.getMessage() for r in caplog.records if "POST /flow from now on" in r.getMessage()]
    assert len(moved) == 1
    # The token the /run attempt carried did not create a job; the /flow job carries one too.
    assert "[qh:" in str(orjson.loads(service.requests[1].content)["description"])


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, {"detail": "Circuit not found."}),  # an unknown id: the route exists
        (404, {"detail": [{"loc": ["body"], "msg": "Not Found", "type": "x"}]}),
        (404, None),  # a proxy's page, not FastAPI's answer
        (405, {"detail": "Not Found"}),
    ],
)
def test_auto_stays_on_run_when_the_404_is_not_a_missing_route(status, body):
    answer: Answer = (
        (lambda r: httpx.Response(status, json=body))
        if body is not None
        else (lambda r: httpx.Response(status, text="<html>Not Found</html>"))
    )
    service = Service({"POST /run": answer, "POST /flow": _hybrid_reply})
    with service.client() as client:
        with pytest.raises(HaiquHTTPStatusError):
            client.submit_run(BODY)
        assert client.submission_route == "run"
    assert service.posts() == ["/run"]


def test_route_run_refuses_to_move_and_says_how(monkeypatch):
    monkeypatch.setenv("HAIQU_ROUTE", "auto")  # the argument wins over the environment
    service = Service({"POST /run": _route_gone(), "POST /flow": _hybrid_reply})
    with service.client(route="run") as client:
        with pytest.raises(NotFoundError) as info:
            client.submit_run(BODY)
        assert client.submission_route == "run"
    assert "route='flow'" in str(info.value)
    assert "no job was created" in str(info.value)
    assert service.posts() == ["/run"]


def test_route_flow_never_posts_run_and_its_job_reads_like_a_run_job():
    service = Service({"POST /flow": _hybrid_reply})
    body = RunSubmit.model_construct(
        experiment_id="exp-1",
        circuit_ids=["circ-1", "circ-2"],
        device_id="fake_manila",
        shots=10,
        use_mitigation=True,
        options={"seed_simulator": 1, "ibm_quantum_token": "ibm-secret-value"},
        description="mine",
    )
    with service.client(route="flow") as client:
        job = client.submit_run(body)
    assert service.posts() == ["/flow"]
    sent = orjson.loads(service.requests[0].content)
    assert sent["description"].startswith("mine [qh:")
    assert sent["device_credentials"] == {"ibm_quantum_token": "ibm-secret-value"}
    assert isinstance(job, HybridJob)
    assert job.circuit_ids == ["circ-1", "circ-2"]
    assert (job.device_id, job.options, job.use_mitigation) == (
        "fake_manila",
        {"seed_simulator": 1},
        True,
    )
    assert job.description == sent["description"]
    assert "ibm-secret-value" not in repr(job)


@pytest.mark.parametrize(("value", "route"), [("flow", "flow"), ("run", "run"), (" ", "auto")])
def test_haiqu_route_chooses_the_route(monkeypatch, value, route):
    monkeypatch.setenv("HAIQU_ROUTE", value)
    with HaiquClient(url="https://x.test", api_key="k") as client:
        assert client.route == route
        assert client.submission_route == ("flow" if route == "flow" else "run")
        assert f"route={route!r}" in repr(client)


def test_an_unknown_route_is_refused(monkeypatch):
    with pytest.raises(HaiquConfigurationError, match="'auto', 'run', 'flow'"):
        HaiquClient(url="https://x.test", api_key="k", route="legacy")  # type: ignore[arg-type]
    monkeypatch.setenv("HAIQU_ROUTE", "FLOW")
    with pytest.raises(HaiquConfigurationError, match=r"\$HAIQU_ROUTE"):
        HaiquClient(url="https://x.test", api_key="k")


def test_a_lost_flow_reply_is_found_among_hybrid_jobs_without_resubmitting():
    service = Service({})
    created: list[dict[str, Any]] = []

    def lost(request: httpx.Request) -> httpx.Response:
        created.append(orjson.loads(_hybrid_reply(request).content))
        return httpx.Response(502)

    def listing(request: httpx.Request) -> httpx.Response:  # newest first, up to ``limit``
        others = [{**RUN_JOB, "id": f"jb-{i}", "description": f"x [qh:{i:032x}]"} for i in range(3)]
        newest = [*created, *others][: int(request.url.params["limit"])]
        return httpx.Response(200, json=newest)

    service.answers = {"POST /flow": lost, "GET /experiments/exp-1/jobs": listing}
    with service.client(route="flow") as client:
        job = client.submit_run(BODY)
    assert job.id == "jb-flow"
    assert isinstance(job, HybridJob)
    assert service.posts() == ["/flow"]
    [search] = [r for r in service.requests if r.method == "GET"]
    assert dict(search.url.params) == {"limit": "1", "job_type": "Hybrid", "circuit_id": "circ-1"}


def test_many_threads_on_a_retired_run_move_once_and_each_get_one_job(caplog):
    service = Service({"POST /run": _route_gone(), "POST /flow": _hybrid_reply})
    jobs: list[RunJob] = []
    with service.client() as client, caplog.at_level(logging.INFO, logger="qiskit_haiqu"):
        threads = [
            threading.Thread(target=lambda: jobs.append(client.submit_run(BODY))) for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(jobs) == 8
    assert service.posts().count("/flow") == 8
    assert 1 <= service.posts().count("/run") <= 8
    moved = [r for r in caplog.records if "POST /flow from now on" in r.getMessage()]
    assert len(moved) == 1
