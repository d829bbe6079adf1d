"""``POST /flow``: a hybrid program runs as the ``POST /run`` request it means, as a Hybrid job.

Bodies are the ones haiqu-sdk 1.7.0 sends (``haiqu-api.md`` §14), over real HTTP. With the
same seed, a ``/flow`` job gives exactly what the matching ``/run`` job gives.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

import plain_http
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

from qiskit_haiqu.api.program import TRANSPILATION_FIELDS
from qiskit_haiqu.emulator import EmulatorSettings
from qiskit_haiqu.emulator.__main__ import add_arguments

from ._servers import emulator_api
from ._support import Api, bell

HIDDEN = ("circuit_ids", "options", "use_mitigation", "run_type", "device_credentials")
SWITCHES = {
    "advanced_mitigation": True,
    "readout_mitigation": True,
    "noise_tailoring": False,
    "dynamical_decoupling": True,
    "readout_mitigation_options": {},
}
TRANSPILATION = {"type": "transpilation", **dict.fromkeys(TRANSPILATION_FIELDS)}


def _device(device_id: str = "aer_simulator", **options: Any) -> dict[str, Any]:
    return {"type": "device", "device_id": device_id, "options": options, "auto_quality": False}


def _grouped(kind: str, enabled: bool = False, **switches: Any) -> dict[str, Any]:
    return {"type": kind, "mitigation_enabled": enabled, **SWITCHES, **switches}


def _program(*layers: dict[str, Any]) -> dict[str, Any]:
    return {"schema_version": 1, "layers": list(layers)}


def _sampler_program(device_id: str = "aer_simulator", **options: Any) -> dict[str, Any]:
    return _program(
        {"type": "input"},
        TRANSPILATION,
        _grouped("distribution_mitigation"),
        _device(device_id, **options),
    )


def _flow(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = api.http.post("/flow", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _done(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    job = api.wait(_flow(api, body)["id"])
    assert job["status"] == "Done", job.get("logs")
    return job


@pytest.fixture(scope="module")
def ids(api: Api, exp_id: str) -> dict[str, str]:
    flip = QuantumCircuit(1, 1, name="flip")
    flip.x(0)
    flip.measure(0, 0)
    ansatz = QuantumCircuit(2, name="ansatz")
    ansatz.ry(Parameter("theta"), 0)
    ansatz.cx(0, 1)
    unmeasured = QuantumCircuit(2, name="bell_state")
    unmeasured.h(0)
    unmeasured.cx(0, 1)
    return {
        "flip": api.upload(exp_id, flip),
        "bell": api.upload(exp_id, bell()),
        "ansatz": api.upload(exp_id, ansatz),
        "state": api.upload(exp_id, unmeasured),
    }


def test_the_sdk_sampler_body_gives_a_hybrid_job_with_the_run_results(api, exp_id, ids):
    body = {
        "experiment_id": exp_id,
        "name": "flip",
        "description": "mine [qh:0123]",
        "program": _sampler_program(),
        "circuit_ids": [ids["flip"]],
        "shots": 100,
        "parameters": None,
        "observables": None,
        "readout_bases": None,
        "device_credentials": {"ibm_quantum_token": "ibm-secret-value"},
        "dry_run": False,
    }
    reply = _flow(api, body)
    job = api.wait(reply["id"])
    for answer in (reply, job):
        assert answer["job_type"] == "Hybrid"
        assert answer["input_circuit_ids"] == [ids["flip"]]
        assert answer["program"]["layers"][-1] == _device()
        assert answer["description"] == "mine [qh:0123]"
        assert answer["shots"] == 100
        assert not [key for key in HIDDEN if key in answer]
    assert job["status"] == "Done"
    assert job["quantum_results"] == [{"1": 1.0}]
    listed = api.http.get(
        f"/experiments/{exp_id}/jobs", params={"job_type": "Hybrid", "limit": 1000}
    ).json()
    assert reply["id"] in {item["id"] for item in listed}
    assert all(item["job_type"] == "Hybrid" for item in listed)
    on_circuit = api.http.get(
        f"/experiments/{exp_id}/jobs", params={"circuit_id": ids["flip"], "limit": 1000}
    ).json()
    assert reply["id"] in {item["id"] for item in on_circuit}
    everything = str(listed) + str(job) + str(reply)
    assert "ibm-secret-value" not in everything


def test_same_seed_same_answers_on_run_and_flow(api, exp_id, ids):
    rows = [[0.0], [0.7], [3.1]]
    observables = [[[["ZZ"], [1.0]], [["XX", "IZ"], [1.0, 0.5]]]]
    common = {
        "experiment_id": exp_id,
        "circuit_ids": [ids["ansatz"]],
        "shots": 400,
        "parameters": rows,
        "observables": observables,
    }
    run = api.run(**common, device_id="aer_simulator", options={"seed_simulator": 11})
    program = _program(
        {"type": "input"},
        TRANSPILATION,
        _grouped("estimator"),
        _device(seed_simulator=11),
    )
    flow = _done(api, {**common, "program": program})
    assert flow["quantum_results"] == run["quantum_results"]
    assert flow["info"]["uncertainty"] == run["info"]["uncertainty"]
    assert flow["parameters"] == rows
    assert flow["observables"] == observables
    values = flow["quantum_results"]
    assert [len(values), len(values[0]), len(values[0][0])] == [1, 2, 3]  # [circuit][obs][row]


@pytest.mark.parametrize("readout", [True, False])
def test_mitigation_switches_mean_what_error_mitigation_options_mean(api, exp_id, ids, readout):
    common = {"experiment_id": exp_id, "circuit_ids": [ids["bell"]], "shots": 2000}
    run = api.run(
        **common,
        device_id="fake_manila",
        use_mitigation=True,
        options={
            "seed_simulator": 5,
            "error_mitigation_options": {"readout_mitigation": readout},
        },
    )
    program = _program(
        {"type": "input"},
        TRANSPILATION,
        _grouped("distribution_mitigation", enabled=True, readout_mitigation=readout),
        _device("fake_manila", seed_simulator=5),
    )
    flow = _done(api, {**common, "program": program})
    assert flow["quantum_results"] == run["quantum_results"]
    unmitigated = api.run(**common, device_id="fake_manila", options={"seed_simulator": 5})
    assert (flow["quantum_results"] != unmitigated["quantum_results"]) is readout


def test_a_statevector_program_returns_the_statevector_run_amplitudes(api, exp_id, ids):
    body = {
        "experiment_id": exp_id,
        "circuit_ids": [ids["bell"]],
        "program": _program({"type": "input"}, {"type": "statevector"}),
        "shots": 1,
    }
    flow = _done(api, body)
    run = api.run(experiment_id=exp_id, circuit_ids=[ids["bell"]], run_type="StatevectorRun")
    assert flow["quantum_results"] == run["quantum_results"]
    assert "run_type" not in flow


def test_a_dry_run_stops_before_the_device_with_the_run_estimate(api, exp_id, ids):
    common = {"experiment_id": exp_id, "circuit_ids": [ids["bell"]], "shots": 1000, "dry_run": True}
    reply = _flow(api, {**common, "program": _sampler_program()})
    assert reply["status"] == "Done"
    assert reply["quantum_results"] == []
    run = api.submit(**common, device_id="aer_simulator")
    assert reply["estimated_qpu_cost"] == run["estimated_qpu_cost"]


def test_a_hybrid_job_can_be_cancelled():
    with emulator_api(min_job_seconds=30) as slow:
        exp_id = slow.experiment()
        body = {
            "experiment_id": exp_id,
            "circuit_ids": [slow.upload(exp_id, bell())],
            "program": _sampler_program(),
        }
        job = _flow(slow, body)
        cancelled = slow.http.post(f"/jobs/{job['id']}/cancel", content=b"null")
        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "Cancelled"
        assert cancelled.json()["job_type"] == "Hybrid"
        assert slow.http.get(f"/jobs/{job['id']}").json()["status"] == "Cancelled"


def _programs() -> list[tuple[str, list[dict[str, Any]], str]]:
    """(case, layers, loc of the refusal) of programs the SDK's rules refuse."""
    inp, dev, sv = {"type": "input"}, _device(), {"type": "statevector"}
    est, dist = _grouped("estimator"), _grouped("distribution_mitigation")
    basis = {"type": "readout_basis"}
    layers = "body.program.layers"
    return [
        ("empty", [], layers),
        ("input not first", [TRANSPILATION, inp, dev], f"{layers}.0"),
        ("two inputs", [inp, inp, dev], f"{layers}.1"),
        ("no terminal", [inp, TRANSPILATION], f"{layers}.1"),
        ("device not last", [inp, dev, TRANSPILATION], f"{layers}.2"),
        ("two terminals", [inp, sv, dev], f"{layers}.1"),
        ("two grouped", [inp, est, dist, dev], f"{layers}.2"),
        ("basis with estimator", [inp, basis, est, dev], f"{layers}.1"),
        ("two bases", [inp, basis, basis, dist, dev], f"{layers}.2"),
        ("unknown type", [inp, {"type": "teleport"}, dev], f"{layers}.1"),
        ("not emulated", [inp, {"type": "qwc_compute"}, dev], f"{layers}.1"),
        ("device without id", [inp, {"type": "device"}], f"{layers}.1.device.device_id"),
        ("pack of one", [inp, {"type": "packing", "pack_size": 1}, dev], f"{layers}.1"),
        ("estimator without observables", [inp, est, dev], f"{layers}.1"),
        ("statevector with mitigation", [inp, dist, sv], f"{layers}.1"),
        ("unknown device", [inp, dist, _device("ibm_nowhere")], f"{layers}.2.device_id"),
        (
            "noise model on fake",
            [inp, _device("fake_manila", noise_model={})],
            f"{layers}.1.options.noise_model",
        ),
    ]


@pytest.mark.parametrize(
    ("layers", "loc"), [c[1:] for c in _programs()], ids=[c[0] for c in _programs()]
)
def test_a_program_the_sdk_or_the_emulator_refuses_is_a_422_at_its_layer(
    api, exp_id, ids, layers, loc
):
    body = {"experiment_id": exp_id, "circuit_ids": [ids["bell"]], "program": {"layers": layers}}
    before = api.http.get(f"/experiments/{exp_id}/jobs", params={"limit": 10_000}).json()
    response = api.http.post("/flow", json=body)
    assert response.status_code == 422, response.text
    locs = [".".join(map(str, item["loc"])) for item in response.json()["detail"]]
    assert any(found.startswith(loc) for found in locs), locs
    after = api.http.get(f"/experiments/{exp_id}/jobs", params={"limit": 10_000}).json()
    assert len(after) == len(before)


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        (
            {"program": {"schema_version": 2, "layers": [{"type": "input"}, _device()]}},
            "body.program.schema_version",
        ),
        ({"circuit_ids": []}, "body.circuit_ids"),
        ({"circuit_ids": ["circ-nope"]}, "body.circuit_ids.0"),
        ({"shots": 0}, "body.shots"),
        ({"shots": "100"}, "body.shots"),
        ({"device_credentials": {"ibm_quantum_token": 5}}, "body.device_credentials"),
        ({"parameters": [[0.1]]}, "body.parameters"),
    ],
)
def test_the_rest_of_the_body_is_checked_as_run_checks_it(api, exp_id, ids, changes, loc):
    body = {"experiment_id": exp_id, "circuit_ids": [ids["bell"]], "program": _sampler_program()}
    response = api.http.post("/flow", json={**body, **changes})
    assert response.status_code == 422, response.text
    locs = [".".join(map(str, item["loc"])) for item in response.json()["detail"]]
    assert any(found.startswith(loc) for found in locs), locs
    assert "ibm-secret" not in response.text


def test_a_retired_run_route_is_fastapis_404_and_flow_still_serves():
    with emulator_api(run_route="retired") as retired:
        exp_id = retired.experiment()
        circuit_id = retired.upload(exp_id, bell())
        gone = retired.http.post(
            "/run", json={"experiment_id": exp_id, "circuit_ids": [circuit_id]}
        )
        assert (gone.status_code, gone.json()) == (404, {"detail": "Not Found"})
        body = {"experiment_id": exp_id, "circuit_ids": [circuit_id], "program": _sampler_program()}
        job = _done(retired, body)
        assert set(job["quantum_results"][0]) <= {"00", "11"}
        assert retired.http.get(f"/jobs/{job['id']}").json()["job_type"] == "Hybrid"


def test_run_route_setting_and_flag():
    assert EmulatorSettings().run_route == "available"
    with pytest.raises(ValueError, match="run_route"):
        EmulatorSettings(run_route="gone")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args([]).run_route == "available"
    assert parser.parse_args(["--run-route", "retired"]).run_route == "retired"
    with pytest.raises(SystemExit):
        parser.parse_args(["--run-route", "maybe"])


def test_the_openapi_schema_documents_both_bodies_without_a_dangling_reference(api):
    response = plain_http.get(f"{api.url}/openapi.json")
    schema = response.json()
    assert "/flow" in schema["paths"]
    defined = set(schema["components"]["schemas"])
    assert {"RunSubmit", "HybridSubmit", "FlowProgram", "DeviceLayer"} <= defined
    referenced = set(re.findall(r"#/components/schemas/(\w+)", response.text))
    assert referenced <= defined
