"""The wire layer's parts on their own: error mapping, complete errors, run bodies, reprs."""

from __future__ import annotations

import httpx
import numpy as np
import orjson
import pytest

from qiskit_haiqu import (
    AuthenticationError,
    HaiquClient,
    InvalidRequestError,
    OutdatedClientError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
)
from qiskit_haiqu.api.error_mapping import ErrorContext, connection_error, response_error
from qiskit_haiqu.api.models import RunSubmit
from qiskit_haiqu.api.run_submission import new_token, run_fields
from qiskit_haiqu.api.transport import Transport

KEY = "sk-secret-key-9876"
CONTEXT = ErrorContext(base_url="https://x.test", sdk_version="1.7.0", api_key=KEY)


def _response(status: int, **kwargs) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("GET", "https://x.test/p"), **kwargs)


@pytest.mark.parametrize(
    ("status", "kind"),
    [(401, AuthenticationError), (422, InvalidRequestError), (429, RateLimitedError)]
    + [(426, OutdatedClientError), (503, ServerError)],
)
def test_response_error_is_pure_and_complete(status, kind):
    response = _response(status, json={"detail": f"bad key {KEY}"}, headers={"retry-after": "2"})
    first = response_error("GET", "/p", response, CONTEXT)
    again = response_error("GET", "/p", response, CONTEXT, " (noted)")
    assert type(first) is type(again) is kind
    assert str(again) == f"{first} (noted)"
    assert (first.status_code, first.url, first.method) == (status, "https://x.test/p", "GET")
    assert KEY not in str(first)
    assert KEY not in str(first.detail)


def test_connection_error_redacts_the_key():
    error = connection_error(
        "GET", "/p", httpx.ConnectError(f"no route ?HAIQU_API_KEY={KEY}"), CONTEXT
    )
    assert KEY not in str(error)
    assert "https://x.test is reachable" in str(error)


def test_with_message_builds_a_new_error_and_leaves_the_old_one():
    old = RateLimitedError(
        "slow", method="GET", url="u", status_code=429, detail="d", retry_after=3
    )
    new = old.with_message("slower", submission_token="[qh:1]")
    assert new is not old
    assert (str(old), old.submission_token, old.args) == ("slow", "", ("slow",))
    assert (str(new), new.submission_token, new.args) == ("slower", "[qh:1]", ("slower",))
    assert (new.method, new.url, new.status_code, new.detail, new.retry_after) == (
        "GET",
        "u",
        429,
        "d",
        3,
    )
    outdated = OutdatedClientError("o", sdk_version="1.0", status_code=426).with_message("p")
    assert (outdated.sdk_version, outdated.status_code) == ("1.0", 426)


def test_a_request_given_up_on_names_its_attempts():
    client = HaiquClient(
        url="https://x.test",
        api_key=KEY,
        transport=httpx.MockTransport(lambda request: httpx.Response(503, json={"detail": "x"})),
        retry=RetryPolicy(max_attempts=3, sleep=lambda _: None),
    )
    with pytest.raises(ServerError, match=r"x\)\. Try again later.*\(gave up after 3 attempts"):
        client.version()


def _old_fields(body: RunSubmit, token: str) -> dict:
    """What submit_run sent before the split (it read the model's ``__dict__``)."""
    fields = dict(body.__dict__)
    if fields.get("readout_bases") is None:
        fields.pop("readout_bases", None)
    room = 1024 - len(token) - 1
    fields["description"] = f"{str(fields.get('description') or '')[:room]} {token}".lstrip()
    return fields


BODIES = [
    RunSubmit.model_construct(experiment_id="e", circuit_ids=["c"]),
    RunSubmit.model_construct(
        device_id="fake_kyiv",
        experiment_id="e",
        circuit_ids=["c", "d"],
        shots=7,
        parameters=np.array([[[0.5, 1.0]], [[0.25, 2.0]]]),
        observables=[[(["ZZ"], np.array([1.0]))], [(["XI", "IZ"], np.array([0.5, -0.5]))]],
        readout_bases=["ZZ"],
        options={"seed_simulator": np.int64(3)},
        use_mitigation=True,
        name="n",
        description="x" * 2000,
        dry_run=True,
        run_type="StatevectorRun",
    ),
    RunSubmit(experiment_id="e", circuit_ids=["c"], parameters=[[0.1]], description=None),
]


@pytest.mark.parametrize("body", BODIES)
def test_run_bodies_are_the_bytes_they_were(body):
    token = new_token()
    option = orjson.OPT_SERIALIZE_NUMPY
    new = run_fields(body, token)
    assert list(new) == list(_old_fields(body, token))
    assert orjson.dumps(new, option=option) == orjson.dumps(_old_fields(body, token), option=option)
    assert new["description"].endswith(token)
    assert len(new["description"]) <= 1024


def test_no_repr_shows_the_key():
    with HaiquClient(url="https://x.test", api_key=KEY) as client:
        assert KEY not in repr(client)
    transport = Transport(
        "https://x.test", KEY, auth="query", sdk_version="1.7.0", retry=RetryPolicy()
    )
    assert KEY not in repr(transport)
    assert KEY not in repr(transport.context)
    transport.close()
