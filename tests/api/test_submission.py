"""Finding what a creation made after its reply was lost or garbled (mock service).

The emulator tests in ``tests/reliability/test_faults.py`` drive the same paths over real
HTTP; these pin what the search asks for and what the user is told when it cannot tell.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from wire_samples import RUN_JOB

from qiskit_haiqu import (
    HaiquClient,
    HaiquInvalidResponseError,
    NotFoundError,
    ServerError,
)
from qiskit_haiqu.api.models import CircuitSubmit, RunSubmit
from qiskit_haiqu.api.retry import RetryPolicy

JOB = RUN_JOB
RUN_BODY = RunSubmit.model_construct(
    experiment_id="exp-1", circuit_ids=["circ-1", "circ-2"], shots=10, description="mine"
)


class Service:
    """A mock Haiqu service: ``answers`` maps ``"METHOD path"`` to a function of the request."""

    def __init__(self, answers: dict[str, Callable[[httpx.Request], httpx.Response]]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []
        self.waits: list[float] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers[f"{request.method} {request.url.path}"](request)

    def client(self, **policy: Any) -> HaiquClient:
        return HaiquClient(
            url="https://x.test",
            api_key="k",
            transport=httpx.MockTransport(self.handler),
            retry=RetryPolicy(sleep=self.waits.append, **policy),
        )

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]


def _submitted_description(service: Service) -> str:
    return str(orjson.loads(service.sent("POST", "/run")[0].content)["description"])


def _listing(
    service: Service, position: int, total: int = 10, request: httpx.Request | None = None
) -> httpx.Response:
    """The newest jobs (as many as the request's ``limit``); the one at ``position`` carries
    the submission token."""
    jobs = [{**JOB, "id": f"jb-{i}", "description": f"other [qh:{i:032x}]"} for i in range(total)]
    jobs[position] = {**JOB, "id": "jb-mine", "description": _submitted_description(service)}
    limit = total if request is None else int(request.url.params.get("limit", total))
    return httpx.Response(200, json=jobs[:limit])


def test_the_search_asks_for_the_newest_run_job_then_ten_and_stops_at_the_match():
    service = Service({})
    service.answers = {
        "POST /run": lambda r: httpx.Response(502),
        "GET /experiments/exp-1/jobs": lambda r: _listing(service, position=3, request=r),
    }
    job = service.client().submit_run(RUN_BODY)
    assert job.id == "jb-mine"
    searches = service.sent("GET", "/experiments/exp-1/jobs")
    query = {"job_type": "Run", "circuit_id": "circ-1"}
    assert [dict(s.url.params) for s in searches] == [
        {"limit": "1", **query},
        {"limit": "10", **query},
    ]
    assert len(service.sent("POST", "/run")) == 1
    assert service.waits == []


def test_a_lost_job_that_is_the_newest_is_found_by_listing_one_job():
    """A big finished job further down the listing is never fetched with its results."""
    service = Service({})
    service.answers = {
        "POST /run": lambda r: httpx.Response(502),
        "GET /experiments/exp-1/jobs": lambda r: _listing(service, position=0, request=r),
    }
    assert service.client().submit_run(RUN_BODY).id == "jb-mine"
    [search] = service.sent("GET", "/experiments/exp-1/jobs")
    assert search.url.params["limit"] == "1"


def test_a_garbled_reply_resolved_by_the_token_gives_the_job_without_resubmitting():
    service = Service({})
    service.answers = {
        "POST /run": lambda r: httpx.Response(200, content=b"<html>Bad Gateway</html>"),
        "GET /experiments/exp-1/jobs": lambda r: _listing(service, position=0),
    }
    assert service.client().submit_run(RUN_BODY).id == "jb-mine"
    assert len(service.sent("POST", "/run")) == 1


def test_a_garbled_reply_with_no_job_found_names_the_token_and_is_not_resubmitted():
    service = Service(
        {
            "POST /run": lambda r: httpx.Response(200, json={"detail": "accepted"}),
            "GET /experiments/exp-1/jobs": lambda r: httpx.Response(200, json=[]),
        }
    )
    with pytest.raises(HaiquInvalidResponseError) as info:
        service.client().submit_run(RUN_BODY)
    token = info.value.submission_token
    message = str(info.value)
    assert token.startswith("[qh:")
    assert token in _submitted_description(service)
    assert token in message
    assert "client.list_jobs('exp-1')" in message
    assert "bill it twice" in message
    assert len(service.sent("POST", "/run")) == 1
    assert len(service.sent("GET", "/experiments/exp-1/jobs")) == 3  # three misses
    assert service.waits == [0.5, 1.5]


def test_a_search_that_cannot_be_made_stops_at_once_on_a_refusal():
    service = Service(
        {
            "POST /run": lambda r: httpx.Response(504),
            "GET /experiments/exp-1/jobs": lambda r: httpx.Response(404, json={"detail": "?"}),
        }
    )
    with pytest.raises(ServerError, match="could not be asked whether the job exists") as info:
        service.client().submit_run(RUN_BODY)
    assert info.value.submission_token in str(info.value)
    assert "NotFoundError" in str(info.value)
    assert len(service.sent("GET", "/experiments/exp-1/jobs")) == 1
    assert len(service.sent("POST", "/run")) == 1


def test_a_failing_search_backs_off_within_its_budget():
    service = Service(
        {
            "POST /run": lambda r: httpx.Response(502),
            "GET /experiments/exp-1/jobs": lambda r: httpx.Response(503),
        }
    )
    with pytest.raises(ServerError, match="could not be asked") as info:
        service.client(max_attempts=2, max_search_wait=4.0).submit_run(RUN_BODY)
    assert "ServerError" in str(info.value)
    assert "gave up after 2 attempts" in str(info.value)
    searches = service.sent("GET", "/experiments/exp-1/jobs")
    assert len(searches) == 4 * 2  # four searches of two attempts each
    # between searches: 0.5, 1, 2 s; a fourth pause (4 s) would pass the 4 s budget
    pauses = [w for w in service.waits if w >= 0.5]  # retries within a search wait <= 0.25 s
    assert pauses == [0.5, 1.0, 2.0]
    assert len(service.sent("POST", "/run")) == 1


CIRCUIT = CircuitSubmit(experiment_id="exp-1", qpy_dump="UVBZ", hash="4242", name="c")
STORED = {
    "id": "circ-9",
    "hash": "4242",
    "name": "c",
    "creation_date": "2026-01-01T00:00:00Z",
    "user_id": 1,
    "experiment_id": "exp-1",
    "status": "Done",
    "generated": False,
}


@pytest.mark.parametrize(
    "reply",
    [httpx.Response(502), httpx.Response(200, content=b"{not json")],
    ids=["lost", "garbled"],
)
def test_a_circuit_whose_reply_went_missing_is_found_by_its_hash(reply):
    service = Service(
        {
            "POST /circuits": lambda r: reply,
            "GET /experiments/exp-1/circuits/4242": lambda r: httpx.Response(200, json=STORED),
        }
    )
    assert service.client().upload_circuit(CIRCUIT).id == "circ-9"
    assert len(service.sent("POST", "/circuits")) == 1


def test_a_circuit_that_cannot_be_found_says_so_and_that_running_again_is_safe():
    service = Service(
        {
            "POST /circuits": lambda r: httpx.Response(504),
            "GET /experiments/exp-1/circuits/4242": lambda r: httpx.Response(503),
        }
    )
    with pytest.raises(ServerError) as info:
        service.client(max_attempts=1, max_search_wait=1.0).upload_circuit(CIRCUIT)
    message = str(info.value)
    assert "client.find_circuit('exp-1', '4242')" in message
    assert "Running again is safe" in message
    assert info.value.submission_token == ""
    assert len(service.sent("POST", "/circuits")) == 1


def test_a_lost_circuit_reply_is_sent_again_only_when_three_lookups_miss():
    replies = iter([httpx.Response(502), httpx.Response(200, json=STORED)])
    service = Service(
        {
            "POST /circuits": lambda r: next(replies),
            "GET /experiments/exp-1/circuits/4242": lambda r: httpx.Response(404),
        }
    )
    assert service.client().upload_circuit(CIRCUIT).id == "circ-9"
    assert len(service.sent("POST", "/circuits")) == 2
    assert len(service.sent("GET", "/experiments/exp-1/circuits/4242")) == 3


def test_find_circuit_still_means_none_on_404_only():
    service = Service(
        {"GET /experiments/exp-1/circuits/1": lambda r: httpx.Response(404, json={"detail": ""})}
    )
    assert service.client().find_circuit("exp-1", "1") is None
    service.answers["GET /experiments/exp-1/circuits/1"] = lambda r: httpx.Response(401)
    with pytest.raises(Exception, match="401") as info:
        service.client().find_circuit("exp-1", "1")
    assert not isinstance(info.value, NotFoundError)
