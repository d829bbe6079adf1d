"""Job lifecycle over HTTP: statuses, cancellation, failures, listing, dry runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Gate

from qiskit_haiqu.api.models import BaseJob, RunJob
from qiskit_haiqu.emulator import EmulatorServer, EmulatorSettings

from ._support import API_KEY, Api, bell

ORDER = ["Submitted", "Queued", "Running", "Done"]


@pytest.fixture(scope="module")
def paced() -> Iterator[Api]:
    """An emulator whose jobs take at least 0.9 s, so every status can be seen."""
    settings = EmulatorSettings(api_keys=[API_KEY], min_job_seconds=0.9, max_workers=2)
    with EmulatorServer(settings) as server:
        client = Api(server.url)
        yield client
        client.close()


def test_statuses_progress_in_order(paced):
    experiment = paced.experiment()
    circuit = paced.upload(experiment, bell())
    job = paced.submit(experiment_id=experiment, circuit_ids=[circuit], shots=50)
    assert job["status"] == "Submitted"
    seen = [job["status"]]
    while seen[-1] not in ("Done", "Error", "Cancelled"):
        status = paced.http.get(f"/jobs/{job['id']}").json()["status"]
        if status != seen[-1]:
            seen.append(status)
    assert seen == ORDER
    final = RunJob.model_validate(paced.http.get(f"/jobs/{job['id']}").json())
    assert final.run_date is not None
    assert final.finish_date is not None
    assert final.creation_date <= final.run_date <= final.finish_date
    assert final.time is not None
    assert final.time >= 0


def test_cancel_an_unfinished_job(paced):
    experiment = paced.experiment()
    circuit = paced.upload(experiment, bell())
    job = paced.submit(experiment_id=experiment, circuit_ids=[circuit], shots=50)
    response = paced.http.post(f"/jobs/{job['id']}/cancel", content=b"null")
    assert response.status_code == 200
    assert BaseJob.model_validate(response.json()).status == "Cancelled"
    final = paced.wait(job["id"])
    assert final["status"] == "Cancelled"
    assert final["quantum_results"] is None
    again = paced.http.post(f"/jobs/{job['id']}/cancel", json=None).json()
    assert again["status"] == "Cancelled"


def test_cancel_a_final_job_returns_it_unchanged(api, exp_id):
    circuit = api.upload(exp_id, bell())
    job = api.run(experiment_id=exp_id, circuit_ids=[circuit], shots=20)
    response = api.http.post(f"/jobs/{job['id']}/cancel", content=b"null")
    assert response.status_code == 200
    assert response.json()["status"] == "Done"
    assert api.http.get(f"/jobs/{job['id']}").json()["quantum_results"] == job["quantum_results"]


def test_unknown_job_is_404(api):
    assert api.http.get("/jobs/jb-nope").status_code == 404
    assert api.http.post("/jobs/jb-nope/cancel", content=b"null").status_code == 404


def test_simulation_failure_is_an_error_job_with_logs(api, exp_id):
    circuit = QuantumCircuit(1, 1)
    circuit.append(Gate("mystery_gate", 1, []), [0])
    circuit.measure(0, 0)
    circuit_id = api.upload(exp_id, circuit)
    job = api.wait(api.submit(experiment_id=exp_id, circuit_ids=[circuit_id], shots=10)["id"])
    assert job["status"] == "Error"
    assert "mystery_gate" in job["logs"]
    assert job["quantum_results"] is None


def test_unknown_aer_method_is_an_error_job(api, exp_id):
    circuit_id = api.upload(exp_id, bell())
    job = api.submit(
        experiment_id=exp_id, circuit_ids=[circuit_id], options={"method": "no_such_method"}
    )
    final = api.wait(job["id"])
    assert final["status"] == "Error"
    assert "no_such_method" in final["logs"]


def test_run_job_fields(api, exp_id):
    circuit = api.upload(exp_id, bell())
    job = api.run(
        experiment_id=exp_id,
        circuit_ids=[circuit],
        shots=30,
        name="named",
        description="described",
        options={"use_packing": False},
    )
    parsed = RunJob.model_validate(job)
    assert parsed.id.startswith("jb-")
    assert parsed.job_type == "Run"
    assert parsed.run_type == "Run"
    assert parsed.device_id == "aer_simulator"
    assert "use_mitigation" in job
    assert job["use_mitigation"] is False
    assert parsed.name == "named"
    assert parsed.description == "described"
    assert parsed.options == {"use_packing": False}
    assert (parsed.info or {}).get("qpu_cost") is None
    assert parsed.estimated_qpu_cost is None


def test_list_jobs_newest_first_with_filters(api):
    experiment = api.experiment()
    first = api.upload(experiment, bell())
    second = api.upload(experiment, bell())
    ids = [
        api.submit(experiment_id=experiment, circuit_ids=[first], shots=5)["id"],
        api.submit(experiment_id=experiment, circuit_ids=[second], shots=5)["id"],
        api.submit(experiment_id=experiment, circuit_ids=[first], shots=5)["id"],
    ]
    listed = api.http.get(f"/experiments/{experiment}/jobs").json()
    assert [j["id"] for j in listed] == ids[::-1]
    limited = api.http.get(f"/experiments/{experiment}/jobs", params={"limit": 2}).json()
    assert [j["id"] for j in limited] == ids[:0:-1]
    by_circuit = api.http.get(f"/experiments/{experiment}/jobs", params={"circuit_id": first})
    assert [j["id"] for j in by_circuit.json()] == [ids[2], ids[0]]
    none = api.http.get(f"/experiments/{experiment}/jobs", params={"job_type": "Analytics"})
    assert none.json() == []
    runs = api.http.get(f"/experiments/{experiment}/jobs", params={"job_type": "Run"})
    assert len(runs.json()) == 3
    unknown = api.http.get(f"/experiments/{experiment}/jobs", params={"circuit_id": "circ-x"})
    assert unknown.status_code == 404
    assert api.http.get("/experiments/exp-nope/jobs").status_code == 404
    for job_id in ids:
        api.wait(job_id)


def test_default_limit_is_ten(api):
    experiment = api.experiment()
    circuit = api.upload(experiment, bell())
    ids = [
        api.submit(experiment_id=experiment, circuit_ids=[circuit], shots=1)["id"]
        for _ in range(11)
    ]
    listed = api.http.get(f"/experiments/{experiment}/jobs").json()
    assert len(listed) == 10
    for job_id in ids:
        api.wait(job_id)


def test_dry_run_is_done_at_once_with_a_cost(api, exp_id):
    circuit = api.upload(exp_id, bell())
    job = api.submit(experiment_id=exp_id, circuit_ids=[circuit], shots=1000, dry_run=True)
    assert job["status"] == "Done"
    assert job["quantum_results"] == []
    cost = RunJob.model_validate(job).estimated_qpu_cost
    assert cost is not None
    assert cost.native is not None
    assert cost.converted is not None
    assert cost.native.unit == "s"
    assert cost.native.amount > 0
    assert cost.converted.unit == "USD"
    assert cost.converted.amount > 0
    bigger = api.submit(experiment_id=exp_id, circuit_ids=[circuit], shots=4000, dry_run=True)
    assert bigger["estimated_qpu_cost"]["native"]["amount"] > cost.native.amount
