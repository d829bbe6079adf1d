"""The qiskit-haiqu command line against the emulator."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import plain_http
import pytest
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qiskit_haiqu import HaiquClient, HaiquEstimator, HaiquSampler
from qiskit_haiqu.cli import (
    EXIT_ALREADY_FINAL,
    EXIT_BROKEN_PIPE,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    build_parser,
    main,
)

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
    assert main(["cancel", job.job_id(), *common]) == EXIT_ALREADY_FINAL  # nothing cancelled
    assert capsys.readouterr().out == (
        f"Job {job.job_id()} was already final (Done): nothing to cancel.\n"
    )
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


def _common(url: str) -> list[str]:
    return ["--url", url.rstrip("/"), "--api-key", API_KEY]


def test_result_json_piped_into_a_reader_that_stops_early_exits_quietly(emulator):
    """``qiskit-haiqu result ID --json | head``: no BrokenPipeError traceback, exit 141."""
    wide = QuantumCircuit(12)
    wide.h(range(12))
    wide.measure_all()
    with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
        job = HaiquSampler("aer_simulator", client=client).run([wide], shots=8192)
        job.result()
    command = [sys.executable, "-m", "qiskit_haiqu.cli", "result", job.job_id(), "--json"]
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [*command, *_common(emulator.url)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    head = process.stdout.read(200)  # the output is ~500 kB: far more than a pipe holds
    process.stdout.close()
    returncode = process.wait(timeout=120)
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert head.startswith(b"{")
    assert stderr == ""
    assert returncode == EXIT_BROKEN_PIPE


def test_result_job_and_cancel_take_a_split_run_id(emulator, capsys):
    qc = QuantumCircuit(1, 1)
    qc.x(0)
    qc.measure(0, 0)
    with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
        job = HaiquSampler("aer_simulator", client=client).run([(qc, None, 5), (qc, None, 7)])
        job.result()
    first, second = job.job_id().split(";")  # different shots: two Haiqu jobs
    common = _common(emulator.url)
    assert main(["result", job.job_id(), *common, "--json"]) == 0
    payloads = json.loads(capsys.readouterr().out)
    assert [(p["job_id"], p["shots"]) for p in payloads] == [(first, 5), (second, 7)]
    assert [p["records"][0]["count"] for p in payloads] == [5, 7]
    assert main(["result", job.job_id(), *common]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == f"Haiqu job {first} (5 shots on aer_simulator):"
    assert table[2].split() == ["0", "-", "1", "1", "5"]
    assert table[3:5] == ["", f"Haiqu job {second} (7 shots on aer_simulator):"]
    assert table[6].split() == ["0", "-", "1", "1", "7"]
    assert main(["result", job.job_id(), *common, "--raw"]) == 0
    assert json.loads(capsys.readouterr().out) == [[{"1": 1.0}], [{"1": 1.0}]]
    assert main(["job", job.job_id(), *common, "--json"]) == 0
    assert [j["id"] for j in json.loads(capsys.readouterr().out)] == [first, second]
    assert main(["cancel", job.job_id(), *common]) == EXIT_ALREADY_FINAL
    assert capsys.readouterr().out.splitlines() == [
        f"Job {first} was already final (Done): nothing to cancel.",
        f"Job {second} was already final (Done): nothing to cancel.",
    ]


def test_a_running_job_then_cancelled_says_what_it_is(emulators, capsys):
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    with emulators.client(min_job_seconds=30) as client:
        job_id = HaiquSampler("aer_simulator", client=client).run([qc], shots=3).job_id()
        common = _common(client.base_url)
    assert main(["result", job_id, *common]) == 1
    err = capsys.readouterr().err
    assert f"Job {job_id} is " in err
    assert f'it has no result yet. Wait for it with: qiskit-haiqu result "{job_id}" --wait' in err
    assert main(["cancel", job_id, *common]) == 0
    assert capsys.readouterr().out == f"Job {job_id} cancelled.\n"
    assert main(["result", job_id, *common]) == 1
    assert capsys.readouterr().err == f"Job {job_id} was cancelled; it has no result.\n"
    assert main(["cancel", job_id, *common, "--json"]) == EXIT_ALREADY_FINAL
    record = json.loads(capsys.readouterr().out)
    assert record["status"] == "Cancelled"
    assert "already final (Cancelled)" in record["outcome"]


def test_jobs_of_an_unknown_experiment_are_looked_up_never_created(emulator, request_log, capsys):
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    options = {"experiment_name": "cli-listing"}
    with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
        job = HaiquSampler("aer_simulator", client=client, options=options).run([qc], shots=2)
        job.result()
    common = _common(emulator.url)
    request_log.clear()
    assert main(["jobs", "--experiment", "cli-listnig", *common]) == 1
    err = capsys.readouterr().err
    assert "no experiment is named 'cli-listnig'. Did you mean 'cli-listing'?" in err
    assert request_log.count("POST", "/experiments") == 0
    assert ("GET", "/experiments") in request_log.api_calls()
    listed = plain_http.get(
        f"{emulator.url}/experiments",
        params={"name": "cli-listnig"},
        headers={"authorization": API_KEY},
    )
    assert listed.json() == []
    assert main(["jobs", "--experiment", "cli-listing", "--limit", "1", *common, "--json"]) == 0
    assert [j["id"] for j in json.loads(capsys.readouterr().out)] == [job.job_id()]
    assert request_log.count("POST", "/experiments") == 0


@pytest.mark.parametrize(
    "command", [["jobs"], ["job", "jb-1"], ["cancel", "jb-1"], ["result", "jb-1", "--wait"]]
)
def test_url_local_is_refused_where_the_embedded_emulator_cannot_hold_jobs(
    command, capsys, monkeypatch
):
    assert main([*command, "--url", "local"]) == 2
    err = capsys.readouterr().err
    assert f"error: --url local cannot work with '{command[0]}'" in err
    assert "qiskit-haiqu emulator --port 8000" in err
    monkeypatch.setenv("HAIQU_API_URL", "local")
    assert main(command) == 2
    assert "HAIQU_API_URL=local cannot work" in capsys.readouterr().err


def test_devices_on_the_embedded_emulator_work(capsys):
    assert main(["devices", "--url", "local", "--json"]) == 0
    assert "aer_simulator" in {d["id"] for d in json.loads(capsys.readouterr().out)}


def _parsers() -> list[argparse.ArgumentParser]:
    parser = build_parser()
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found += list(action.choices.values())
    return found


def test_every_command_and_argument_has_help_text():
    parsers = _parsers()
    assert len(parsers) == 8  # qiskit-haiqu and its 7 commands
    for parser in parsers:
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                helps = {a.dest: a.help for a in action._choices_actions}
                assert set(helps) == set(action.choices)
                assert all(helps.values()), helps
                continue
            assert action.help, f"{parser.prog}: {action.option_strings or action.dest}"
            assert action.help != argparse.SUPPRESS


@pytest.mark.parametrize(
    "argv", [["jobs", "--limit", "0"], ["result", "jb-1", "--top", "-2"], ["result", ";"]]
)
def test_counts_and_ids_are_checked_as_usage(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_exit_codes_are_documented():
    text = (Path(__file__).resolve().parents[1] / "docs" / "cli.rst").read_text()
    table = text.split("Exit codes")[1].split("Every command's")[0]
    codes = [EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_ALREADY_FINAL, EXIT_BROKEN_PIPE]
    for code in codes:
        assert f"   * - {code}\n" in table, code
    assert table.count("   * - ") == 1 + len(codes)  # the header row, then one per code
