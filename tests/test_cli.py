"""The qiskit-haiqu command line against the emulator."""

from __future__ import annotations

import json

import numpy as np
import pytest
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qiskit_haiqu import HaiquClient, HaiquEstimator, HaiquSampler
from qiskit_haiqu.cli import main

API_KEY = "test-key-123"


def test_demo_runs_end_to_end(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "Bell state counts" in out
    assert "'00'" in out
    assert "<Z>=" in out


def test_devices_as_json(emulator, capsys):
    assert main(["devices", "--url", emulator.url, "--api-key", API_KEY, "--json"]) == 0
    devices = json.loads(capsys.readouterr().out)
    assert "aer_simulator" in {device["id"] for device in devices}


def test_job_result_and_cancel_exit_codes(emulator, capsys):
    qc = QuantumCircuit(1, 1)
    qc.x(0)
    qc.measure(0, 0)
    with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
        job = HaiquSampler("aer_simulator", client=client).run([qc], shots=10)
        job.result()
    common = ["--url", emulator.url, "--api-key", API_KEY]
    assert main(["job", job.job_id(), *common]) == 0
    assert "Done" in capsys.readouterr().out
    assert main(["result", job.job_id(), *common, "--raw"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"1": 1.0}]
    assert main(["result", job.job_id(), *common, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["job_id"] == job.job_id()
    assert payload["shots"] == 10
    assert payload["records"] == [
        {"circuit": 0, "row": None, "outcome": "1", "probability": 1.0, "count": 10}
    ]
    assert main(["result", job.job_id(), *common]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["CIRCUIT", "ROW", "OUTCOME", "PROBABILITY", "COUNT"]
    assert table[1].split() == ["0", "-", "1", "1", "10"]
    assert main(["cancel", job.job_id(), *common]) == 1  # already final: not cancelled
    capsys.readouterr()
    assert main(["job", "jb-does-not-exist", *common]) == 1
    assert "not found" in capsys.readouterr().err


def test_estimator_result_as_table_and_json_matches_the_primitive(emulator, capsys):
    theta = Parameter("theta")
    qc = QuantumCircuit(1)
    qc.ry(theta, 0)
    angles = np.array([0.0, np.pi / 2, np.pi])
    with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
        job = HaiquEstimator("aer_simulator", client=client).run(
            [(qc, [[SparsePauliOp("Z")], [SparsePauliOp("X")]], angles)]
        )
        data = job.result()[0].data
    common = ["--url", emulator.url, "--api-key", API_KEY]
    assert main(["result", job.job_id(), *common, "--json"]) == 0
    records = json.loads(capsys.readouterr().out)["records"]
    assert [(r["observable"], r["row"]) for r in records] == [
        (o, r) for o in range(2) for r in range(3)
    ]
    assert np.array([r["value"] for r in records]).reshape(2, 3) == pytest.approx(data.evs)
    assert np.array([r["std"] for r in records]).reshape(2, 3) == pytest.approx(data.stds)
    assert main(["result", job.job_id(), *common]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["CIRCUIT", "OBSERVABLE", "ROW", "VALUE", "STD"]
    assert len(table) == 7


def test_result_wait_shows_progress_then_the_counts(emulator, capsys):
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
        job = HaiquSampler("aer_simulator", client=client).run([qc], shots=7)
    common = ["--url", emulator.url, "--api-key", API_KEY]
    assert main(["result", job.job_id(), *common, "--wait", "--top", "1"]) == 0
    captured = capsys.readouterr()
    assert f"Haiqu job {job.job_id()} on aer_simulator: DONE" in captured.err
    assert captured.out.splitlines()[1].split() == ["0", "-", "0", "1", "7"]


def test_wrong_key_exits_one_without_the_key(emulator, capsys):
    assert main(["devices", "--url", emulator.url, "--api-key", "nope-secret"]) == 1
    err = capsys.readouterr().err
    assert "rejected" in err
    assert "nope-secret" not in err


def test_usage_errors_exit_two():
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2
