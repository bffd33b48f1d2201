"""The OpenAPI document, checked in as docs/openapi.json (a test keeps it current)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI

OPENAPI_FILE = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def render(app: FastAPI) -> str:
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"
