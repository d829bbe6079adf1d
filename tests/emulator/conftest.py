"""Fixtures of the emulator tests: an httpx helper on the session's emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._support import Api


@pytest.fixture(scope="session")
def api(emulator) -> Iterator[Api]:
    client = Api(emulator.url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def exp_id(api: Api) -> str:
    return api.experiment("emulator-tests")
