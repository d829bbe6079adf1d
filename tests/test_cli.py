"""The qiskit-haiqu command line against the emulator."""

from __future__ import annotations

import json

import pytest
from qiskit.circuit import QuantumCircuit

from qiskit_haiqu import HaiquClient, HaiquSampler
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
    assert main(["result", job.job_id(), *common]) == 0
    assert json.loads(capsys.readouterr().out) == [{"1": 1.0}]
    assert main(["cancel", job.job_id(), *common]) == 1  # already final: not cancelled
    capsys.readouterr()
    assert main(["job", "jb-does-not-exist", *common]) == 1
    assert "not found" in capsys.readouterr().err


def test_wrong_key_exits_one_without_the_key(emulator, capsys):
    assert main(["devices", "--url", emulator.url, "--api-key", "nope-secret"]) == 1
    err = capsys.readouterr().err
    assert "rejected" in err
    assert "nope-secret" not in err


def test_usage_errors_exit_two():
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2
