"""RFC 9457 problem details: every error the API returns, with the contract's custom error where the chain refused."""

from __future__ import annotations

import logging
from typing import Any

import requests
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from chain_client.errors import ContractRevert

log = logging.getLogger("api")
PROBLEM_BASE = "https://battery-ledger.example/problems/"
MEDIA_TYPE = "application/problem+json"


class ChainError(BaseModel):
    """A custom error of a contract, decoded: ``RegistryMissingRole(account=0x.., roles=4)``."""

    name: str
    args: dict[str, Any]


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    error: ChainError | None = None
    errors: list[dict[str, Any]] | None = None


class ApiProblem(Exception):
    """Raised by the routes: becomes a problem response with ``status`` and ``code`` (the type's last part)."""

    def __init__(self, status: int, code: str, detail: str, *, title: str | None = None,
                 error: ChainError | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or code.replace("-", " ").capitalize()
        self.error = error
        self.headers = headers


def jsonable(value: Any) -> Any:
    """Revert arguments as JSON: bytes as 0x hex, tuples as lists."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def refused(revert: ContractRevert) -> ApiProblem:
    """The 422 problem for a call the chain refused."""
    return ApiProblem(422, "contract-refused", f"the chain refused the act: {revert}", title="Contract refused",
                      error=ChainError(name=revert.name, args=jsonable(revert.args_by_name)))


def node_down(retry_after: int) -> ApiProblem:
    return ApiProblem(503, "node-unavailable", "the blockchain node cannot be reached; retry later (nothing "
                      "accepted was lost)", headers={"Retry-After": str(retry_after)})


def problem_response(request: Request, p: ApiProblem) -> JSONResponse:
    body = Problem(type=PROBLEM_BASE + p.code, title=p.title, status=p.status, detail=p.detail,
                   instance=str(request.url.path), error=p.error)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=p.status, headers=p.headers,
                        media_type=MEDIA_TYPE)


#: Exceptions that mean the node did not answer.
NODE_DOWN = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, ConnectionError, TimeoutError)


def install(app: FastAPI, retry_after: int) -> None:
    """Registers the handlers that turn every error into a problem response."""

    @app.exception_handler(ApiProblem)
    async def _problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type"))}
                  for e in exc.errors()]
        if any(e["type"] == "json_invalid" for e in errors):
            p = ApiProblem(400, "malformed-json", "the request body is not valid JSON")
        else:
            where = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5])
            p = ApiProblem(422, "invalid-request", f"the request does not match its schema: {where}")
        response = problem_response(request, p)
        body = Problem.model_validate_json(bytes(response.body))
        body.errors = errors
        return JSONResponse(body.model_dump(exclude_none=True), status_code=p.status, media_type=MEDIA_TYPE)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        detail = "no such resource" if exc.status_code == 404 else str(exc.detail)
        return problem_response(request, ApiProblem(exc.status_code, code, detail,
                                                    headers=dict(exc.headers) if exc.headers else None))

    @app.exception_handler(ContractRevert)
    async def _revert(request: Request, exc: ContractRevert) -> JSONResponse:
        return problem_response(request, refused(exc))

    for kind in NODE_DOWN:
        @app.exception_handler(kind)
        async def _down(request: Request, exc: Exception) -> JSONResponse:
            return problem_response(request, node_down(retry_after))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return problem_response(request, ApiProblem(500, "internal-error", "unexpected error; it was logged"))


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declaration of the problem responses a route may give."""
    return {s: {"model": Problem, "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                "description": "problem details (RFC 9457)"} for s in statuses}
