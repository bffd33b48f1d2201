"""The OpenAPI document: checked in and current; and a Schemathesis run over it (no 500, every response matches
its declared schema and status codes). ``make fuzz-api`` runs the same test with many more cases."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, cast

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from api.openapi import OPENAPI_FILE, render
from tests.api.conftest import Api

EXAMPLES = int(os.environ.get("BLEDGER_FUZZ_EXAMPLES", "3"))


def test_checked_in_openapi_is_current(embedded_api: Api) -> None:
    assert OPENAPI_FILE.is_file(), "run `bledger api openapi` to write docs/openapi.json"
    assert json.loads(OPENAPI_FILE.read_text()) == json.loads(render(embedded_api.app)), (
        "docs/openapi.json is stale: run `bledger api openapi`")


CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]


def test_fuzz(embedded_api: Api) -> None:
    """Generated requests against every operation, signed in as a ministry (and unsigned for sign-out)."""
    headers = embedded_api.sign_in(embedded_api.world.moe)
    schema = schemathesis.openapi.from_asgi("/openapi.json", embedded_api.app)
    operations = [cast(Any, result).ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    calls = 0
    for operation in operations:
        auth = {} if operation.path == "/v1/auth/sign-out" else headers

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(headers=auth, checks=CHECKS)

        run()
    assert calls >= len(operations)
    print(f"{calls} generated requests over {len(operations)} operations")


__all__ = ["Path"]
