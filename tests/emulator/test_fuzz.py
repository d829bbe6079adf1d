"""Fuzz the emulator from its own OpenAPI schema: whatever a client sends, never a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

API_KEY = "test-key-123"


@pytest.fixture(scope="module")
def api_schema(emulator):
    return schemathesis.openapi.from_url(f"{emulator.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_emulator_fail(case):
    response = case.call(headers={"authorization": API_KEY}, timeout=30)
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
