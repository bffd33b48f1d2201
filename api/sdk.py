"""A small Python client of the API: sign in, prepare an act, sign it locally, submit, follow.

    client = PortalClient(httpx.Client(base_url="http://127.0.0.1:8000"), account)
    status = client.act("/v1/certification/lots/7/certify", {})

The key never leaves the caller: the API only sees signatures.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount


class HttpClient(Protocol):
    """What the client needs of an HTTP client (``httpx.Client``, FastAPI's ``TestClient``)."""

    def post(self, url: str, *, json: Any = ..., headers: Any = ...) -> Any: ...

    def get(self, url: str, *, headers: Any = ...) -> Any: ...


class PortalError(Exception):
    """The API answered with a problem; ``problem`` is its body."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(f"{problem.get('status')} {problem.get('title')}: {problem.get('detail')}")
        self.problem = problem


def sign_prepared(account: LocalAccount, prepared: dict[str, Any]) -> dict[str, Any]:
    """The body of ``POST /v1/requests`` for a prepared act."""
    signed = Account.sign_typed_data(account.key, full_message=prepared["typed_data"])
    return {"request": prepared["request"], "signature": signed.signature.to_0x_hex()}


class PortalClient:
    def __init__(self, http: HttpClient, account: LocalAccount) -> None:
        self.http = http
        self.account = account
        self._headers: dict[str, str] | None = None

    def _ok(self, response: Any) -> Any:
        if response.status_code >= 400:
            raise PortalError(response.json())
        return response.json() if response.content else None

    def sign_in(self) -> dict[str, str]:
        message = self._ok(self.http.post("/v1/auth/challenge", json={"address": self.account.address}))["message"]
        signature = self.account.sign_message(encode_defunct(text=message)).signature.to_0x_hex()
        token = self._ok(self.http.post("/v1/auth/sign-in", json={"message": message, "signature": signature}))
        self._headers = {"Authorization": f"Bearer {token['token']}"}
        return self._headers

    @property
    def headers(self) -> dict[str, str]:
        return self._headers or self.sign_in()

    def act(self, path: str, body: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        """Prepares the act at ``path``, signs it locally and submits it; returns the request's status."""
        prepared = self._ok(self.http.post(path, json=body, headers=self.headers))
        headers = dict(self.headers)
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return self._ok(self.http.post("/v1/requests", json=sign_prepared(self.account, prepared), headers=headers))  # type: ignore[no-any-return]

    def request(self, request_id: int) -> dict[str, Any]:
        return self._ok(self.http.get(f"/v1/requests/{request_id}", headers=self.headers))  # type: ignore[no-any-return]

    def wait(self, request_id: int, timeout: float = 60.0, interval: float = 0.5) -> dict[str, Any]:
        """Polls until the request is mined or failed."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.request(request_id)
            if status["status"] in ("mined", "failed") or time.monotonic() > deadline:
                return status
            time.sleep(interval)
