"""The reattachment context in job descriptions: never cut, small, and old jobs still read."""

from __future__ import annotations

import base64
import json
import warnings
import zlib
from typing import Any

import numpy as np
import plain_http
import pytest
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qiskit_haiqu import HaiquClient, HaiquEstimator, HaiquInputError, HaiquSampler
from qiskit_haiqu.api.models import RunJob
from qiskit_haiqu.primitives.base import DESCRIPTION_ROOM
from qiskit_haiqu.translate.job_context import fit_description, read_context, write_context

API_KEY = "test-key-123"
DESCRIPTION_LIMIT = 1024


def legacy_marker(context: dict[str, Any]) -> str:
    """The marker as qiskit-haiqu 0.1 wrote it: ``[qhc:<base64 of zlib'd JSON>]``."""
    packed = zlib.compress(json.dumps(context, separators=(",", ":")).encode(), 9)
    return f"[qhc:{base64.b64encode(packed).decode('ascii')}]"


def _estimator_pub_context(obs: list[int], obs_shape: list[int], row_shape: list[int]) -> dict:
    return {
        "obs": obs,
        "obs_shape": obs_shape,
        "row_shape": row_shape,
        "precision": 0.015625,
        "entries": 1,
    }


# -- the marker ---------------------------------------------------------------------------------

CONTEXTS = [
    {"kind": "sampler", "shapes": [[], [3], [2, 3], [0]]},
    {"kind": "estimator", "pubs": [_estimator_pub_context([0, 1, 2], [3], [])]},
    {"kind": "estimator", "pubs": [_estimator_pub_context([0, 1, 0, 2], [4, 1], [5])]},
    {"kind": "estimator", "pubs": [{**_estimator_pub_context([0, 1], [2], []), "entries": 7}]},
    {"kind": "something else", "anything": [1, "two"]},
]


@pytest.mark.parametrize("context", CONTEXTS)
def test_contexts_read_back_as_written_in_both_formats(context):
    for marker in (write_context(context), legacy_marker(context)):
        assert read_context(f"user text {marker} [qh:0123]") == context


def test_a_context_costs_the_same_whatever_the_number_of_observables():
    """Distinct observables are numbered 0, 1, 2, ... and the service echoes them: only the
    shapes are stored, so a pub with 1000 observables costs what a pub with one does."""

    def marker(observables: int, pubs: int) -> str:
        context = [_estimator_pub_context(list(range(observables)), [observables], [])] * pubs
        return write_context({"kind": "estimator", "pubs": context})

    assert len(marker(1000, 1)) - len(marker(1, 1)) <= 8  # the shape's digits, bit padding
    assert len(marker(1000, 200)) < 80
    assert (
        len(
            legacy_marker(
                {
                    "kind": "estimator",
                    "pubs": [_estimator_pub_context(list(range(1000)), [1000], [])],
                }
            )
        )
        > DESCRIPTION_ROOM
    )  # what the previous format could not store


def test_the_last_readable_marker_wins():
    mine = write_context({"kind": "sampler", "shapes": [[2]]})
    quoted = write_context({"kind": "sampler", "shapes": [[9]]})
    description = f"copied from an old job: {quoted} {mine} [qh:0f]"
    assert read_context(description) == {"kind": "sampler", "shapes": [[2]]}
    assert read_context(f"{mine} [qhc:AAAA] [qhc:not-base64!]") == {
        "kind": "sampler",
        "shapes": [[2]],
    }
    for nothing in (None, "", "no marker", "[qhc:]", "[qhc:@@@]", "[qhc:AAAA]", "[qhc:AAA]"):
        assert read_context(nothing) is None


def test_fit_description_cuts_the_text_never_the_marker():
    marker = "[qhc:" + "A" * 20 + "]"
    assert fit_description("hello", marker, 100) == (f"hello {marker}", 0)
    assert fit_description("", marker, 100) == (marker, 0)
    text, cut = fit_description("x" * 100, marker, 50)  # type: ignore[misc]
    assert text == "x" * (50 - len(marker) - 1) + " " + marker
    assert (len(text), cut) == (50, 100 - (50 - len(marker) - 1))
    assert fit_description("x" * 10, marker, len(marker)) == (marker, 10)
    assert fit_description("x", marker, len(marker) - 1) is None


def test_the_room_is_what_the_client_leaves():
    """1024 characters, less the client's ``[qh:<32 hex>]`` token and its space."""
    assert DESCRIPTION_LIMIT - len("[qh:" + "0" * 32 + "]") - 1 == DESCRIPTION_ROOM


# -- over HTTP ----------------------------------------------------------------------------------


def _one_qubit() -> QuantumCircuit:
    qc = QuantumCircuit(1)
    qc.h(0)
    return qc


def _random_pattern_pubs(pubs: int, cells: int, seed: int) -> list[tuple[Any, ...]]:
    """Estimator pubs whose observables repeat Z and X in a random order: their observable
    index does not compress, so the context grows with ``pubs * cells``."""
    rng = np.random.default_rng(seed)
    z, x = SparsePauliOp("Z"), SparsePauliOp("X")
    return [
        (_one_qubit(), [z if bit else x for bit in rng.integers(0, 2, cells)], None, 0.1)
        for _ in range(pubs)
    ]


def _stored_description(client: HaiquClient, job_id: str) -> str:
    job = client.get_job(job_id)
    assert isinstance(job, RunJob)
    return job.description or ""


def test_a_long_job_description_is_shortened_to_keep_the_layout(emulator):
    text = "".join(f"{i % 10}" for i in range(512))  # the longest job_description allowed
    pubs = _random_pattern_pubs(20, 120, seed=3)
    with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
        estimator = HaiquEstimator(client=client, options={"job_description": text})
        with pytest.warns(UserWarning, match="job_description") as caught:
            job = estimator.run(pubs)
        message = str(caught[0].message)
        result = job.result()
        description = _stored_description(client, job.job_id())
        again = HaiquEstimator(client=client).job(job.job_id()).result()
    cut = int(message.split("shortened by up to ")[1].split()[0])
    assert 0 < cut < len(text)
    assert "HaiquEstimator.job(job_id)" in message
    assert len(description) <= DESCRIPTION_LIMIT
    assert description.startswith(text[: len(text) - cut] + " [qhc:")
    assert text not in description
    context = read_context(description)
    assert context is not None
    assert len(context["pubs"]) == 20
    assert description.endswith("]")  # the client's token follows the whole marker
    for mine, theirs in zip(result, again, strict=True):
        np.testing.assert_array_equal(mine.data.evs, theirs.data.evs)
        np.testing.assert_array_equal(mine.data.stds, theirs.data.stds)
        assert mine.data.evs.shape == (120,)


def test_a_long_job_description_with_a_small_layout_is_kept_whole(emulator):
    text = "sweep " + "y" * 506
    theta = Parameter("t")
    qc = QuantumCircuit(1, 1)
    qc.rx(theta, 0)
    qc.measure(0, 0)
    with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
        sampler = HaiquSampler(client=client, options={"job_description": text})
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            job = sampler.run([(qc, np.linspace(0, np.pi, 6).reshape(2, 3, 1))], shots=10)
        job.result()
        description = _stored_description(client, job.job_id())
        again = HaiquSampler(client=client).job(job.job_id()).result()
    assert description.startswith(text + " [qhc:")
    assert again[0].data.c.shape == (2, 3)


def test_many_estimator_pubs_and_observables_reattach(emulator):
    """60 pubs of different shapes, up to 60 distinct observables each, in one job (the
    previous format needed more than the 700 characters it allowed itself, and dropped it)."""
    theta = Parameter("t")
    qc = QuantumCircuit(1)
    qc.ry(theta, 0)
    pubs = []
    for i in range(60):
        observables = [SparsePauliOp("Z", coeffs=[1.0 + k]) for k in range(20 + i % 41)]
        values = np.linspace(0, np.pi, 1 + i % 4)[:, None]
        pubs.append((qc, [[observable] for observable in observables], values, 0.1))
    with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            job = HaiquEstimator(client=client).run(pubs)
        result = job.result()
        description = _stored_description(client, job.job_id())
        again = HaiquEstimator(client=client).job(job.job_id()).result()
    assert ";" not in job.job_id()  # one Haiqu job holds them all
    marker = description.rsplit(" [qh:", 1)[0]
    assert len(marker) < 300
    assert len(legacy_marker(read_context(marker) or {})) > 700
    for i, (mine, theirs) in enumerate(zip(result, again, strict=True)):
        assert theirs.data.evs.shape == (20 + i % 41, 1 + i % 4)
        np.testing.assert_array_equal(mine.data.evs, theirs.data.evs)
        assert theirs.metadata["target_precision"] == 0.1


def test_a_layout_too_large_to_store_is_announced_at_submission(emulator):
    pubs = _random_pattern_pubs(1, 8000, seed=5)
    with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
        estimator = HaiquEstimator(client=client, options={"job_description": "big"})
        with pytest.warns(UserWarning, match="too large to store") as caught:
            job = estimator.run(pubs)
        assert "HaiquEstimator.job(job_id) in another process" in str(caught[0].message)
        result = job.result()  # this process decodes it as usual
        assert result[0].data.evs.shape == (8000,)
        description = _stored_description(client, job.job_id())
        with pytest.raises(HaiquInputError, match="too large to store"):
            HaiquEstimator(client=client).job(job.job_id())
    assert description.startswith("big [qh:")


def _serve_description(emulator, job_id: str, description: str) -> None:
    rule = {
        "method": "GET",
        "path": f"^/jobs/{job_id}$",
        "action": "patch",
        "count": 100,
        "patch": {"description": description},
    }
    plain_http.post(f"{emulator.url}/_emulator/faults", json=[rule]).raise_for_status()


def test_jobs_with_the_previous_marker_still_reattach(emulator):
    """Jobs submitted by an earlier version carry ``[qhc:...]``: the service returns them so."""
    theta = Parameter("t")
    sampled = QuantumCircuit(1, 1)
    sampled.rx(theta, 0)
    sampled.measure(0, 0)
    estimated = QuantumCircuit(1)
    estimated.ry(theta, 0)
    observables = [SparsePauliOp("Z"), SparsePauliOp("X"), SparsePauliOp("Z")]
    try:
        with HaiquClient(url=emulator.url, api_key=API_KEY) as client:
            sampler_job = HaiquSampler(client=client).run([(sampled, np.zeros((2, 3, 1)))], shots=8)
            sampler_result = sampler_job.result()
            estimator_job = HaiquEstimator(client=client).run(
                [(estimated, observables, [[0.3]], 0.1)]
            )
            estimator_result = estimator_job.result()
            old_sampler = {"kind": "sampler", "shapes": [[2, 3]]}
            old_estimator = {
                "kind": "estimator",
                "pubs": [
                    {
                        "obs": [0, 1, 0],
                        "obs_shape": [3],
                        "row_shape": [1],
                        "precision": 0.1,
                        "entries": 1,
                    }
                ],
            }
            _serve_description(emulator, sampler_job.job_id(), f"old {legacy_marker(old_sampler)}")
            _serve_description(emulator, estimator_job.job_id(), legacy_marker(old_estimator))
            assert "[qhc:" in _stored_description(client, sampler_job.job_id())
            sampler_again = HaiquSampler(client=client).job(sampler_job.job_id()).result()
            estimator_again = HaiquEstimator(client=client).job(estimator_job.job_id()).result()
    finally:
        plain_http.delete(f"{emulator.url}/_emulator/faults").raise_for_status()
    assert sampler_again[0].data.c.shape == (2, 3)
    assert sampler_again[0].data.c.get_counts() == sampler_result[0].data.c.get_counts()
    np.testing.assert_array_equal(estimator_again[0].data.evs, estimator_result[0].data.evs)
