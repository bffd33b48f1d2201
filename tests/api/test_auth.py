"""Sign-in with Ethereum and every auth boundary: no session, bad session, wrong role, suspended, revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from api import siwe
from tests.api.conftest import Api


def problem(r: object, status: int, code: str) -> dict[str, object]:
    body = r.json()  # type: ignore[attr-defined]
    assert r.status_code == status, (r.status_code, body)  # type: ignore[attr-defined]
    assert r.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert body["type"].endswith("/" + code), body
    assert body["status"] == status
    return body  # type: ignore[no-any-return]


def challenge(api: Api, account: LocalAccount) -> str:
    return str(api.client.post("/v1/auth/challenge", json={"address": account.address}).json()["message"])


def signed(account: LocalAccount, text: str) -> dict[str, str]:
    return {"message": text, "signature": account.sign_message(encode_defunct(text=text)).signature.to_0x_hex()}


def test_sign_in_gives_a_session_with_on_chain_permissions(embedded_api: Api) -> None:
    api = embedded_api
    me = api.client.get("/v1/auth/me", headers=api.sign_in(api.world.recycler)).json()
    assert me == {"address": api.world.recycler.address, "registered": True, "status": "active",
                  "roles": ["recycler"], "authorities": []}
    assert api.client.get("/v1/auth/me", headers=api.sign_in(api.world.moe)).json()["authorities"] == ["moe"]


def test_replayed_sign_in_is_refused(embedded_api: Api) -> None:
    api = embedded_api
    body = signed(api.world.recycler, challenge(api, api.world.recycler))
    assert api.client.post("/v1/auth/sign-in", json=body).status_code == 200
    problem(api.client.post("/v1/auth/sign-in", json=body), 401, "nonce-used")


def test_sign_in_message_bindings(embedded_api: Api) -> None:
    api, acct = embedded_api, embedded_api.world.recycler
    text = challenge(api, acct)
    cases = {
        "wrong-domain": text.replace("localhost wants", "evil.example wants"),
        "wrong-chain": text.replace(f"Chain ID: {api.world.sender.chain_id}", "Chain ID: 1"),
        "wrong-uri": text.replace("URI: http://localhost", "URI: https://evil.example"),
    }
    for code, forged in cases.items():
        problem(api.client.post("/v1/auth/sign-in", json=signed(acct, forged)), 401, code)
    # signed by someone else
    problem(api.client.post("/v1/auth/sign-in", json={**signed(api.world.stranger, text)}), 401, "bad-signature")
    # a nonce the server never issued
    parsed = siwe.parse(text)
    own = siwe.SiweMessage(**{**parsed.__dict__, "nonce": "abcdef1234567890"})
    problem(api.client.post("/v1/auth/sign-in", json=signed(acct, own.text())), 401, "unknown-nonce")


def test_expired_sign_in_message(embedded_api: Api) -> None:
    api, acct = embedded_api, embedded_api.world.recycler
    parsed = siwe.parse(challenge(api, acct))
    past = datetime.now(UTC) - timedelta(minutes=1)
    old = siwe.SiweMessage(**{**parsed.__dict__, "issued_at": past - timedelta(minutes=5), "expiration_time": past})
    problem(api.client.post("/v1/auth/sign-in", json=signed(acct, old.text())), 401, "expired")


def test_malformed_sign_in_messages(embedded_api: Api) -> None:
    api, acct = embedded_api, embedded_api.world.recycler
    text = challenge(api, acct)
    for bad in (text.replace(acct.address, acct.address.lower()), text.replace("Version: 1", "Version: 2"),
                "hello", text.replace("\nURI:", "\nuri:"), text + "\nExtra: field"):
        problem(api.client.post("/v1/auth/sign-in", json=signed(acct, bad)), 400, "malformed-message")


def test_siwe_text_round_trips() -> None:
    m = siwe.SiweMessage("example.com:8080", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "https://example.com/x",
                         1, "abcdefgh1234", datetime(2026, 1, 1, tzinfo=UTC), None,
                         datetime(2026, 1, 2, tzinfo=UTC), None, "req-1", ("https://example.com/a",))
    assert siwe.parse(m.text()) == m
    assert "\n\n\nURI:" in m.text()  # no statement: two empty lines, as the ABNF says


def test_no_session_and_bad_session(embedded_api: Api) -> None:
    api = embedded_api
    problem(api.client.get("/v1/auth/me"), 401, "no-session")
    problem(api.client.post("/v1/certification/lots/1/certify", json={}), 401, "no-session")
    problem(api.client.get("/v1/auth/me", headers={"Authorization": "Bearer nope"}), 401, "invalid-session")
    headers = api.sign_in(api.world.recycler)
    assert api.client.post("/v1/auth/sign-out", headers=headers).status_code == 204
    problem(api.client.get("/v1/auth/me", headers=headers), 401, "invalid-session")


def test_wrong_role_and_missing_authority(api: Api) -> None:
    w = api.world
    problem(api.client.post("/v1/certification/lots/1/certify", json={}, headers=api.sign_in(w.recycler)), 403,
            "missing-authority")
    body = {"material": "lithium", "feedstock": "post_consumer", "mass_grams": 1, "chemical_form": "Li",
            "facility": "F", "period_start": 0, "period_end": 1}
    problem(api.client.post("/v1/certification/lots", json=body, headers=api.sign_in(w.cell_maker)), 403,
            "missing-role")
    problem(api.client.post("/v1/certification/lots", json=body, headers=api.sign_in(w.portal)), 403,
            "not-registered")


def test_suspended_business_reads_but_cannot_write(api: Api) -> None:
    w = api.world
    headers = api.sign_in(w.recycler)  # signed in while active: the session alone grants nothing
    w.ledger.registry.suspend(w.moe, w.recycler.address)
    me = api.client.get("/v1/auth/me", headers=headers).json()
    assert me["status"] == "suspended"
    assert api.client.get("/v1/certification/lots", headers=headers).status_code == 200
    body = {"material": "lithium", "feedstock": "post_consumer", "mass_grams": 1, "chemical_form": "Li",
            "facility": "F", "period_start": 0, "period_end": 1}
    problem(api.client.post("/v1/certification/lots", json=body, headers=headers), 403, "participant-suspended")
    w.ledger.registry.revoke(w.moe, w.recycler.address)
    problem(api.client.post("/v1/certification/lots", json=body, headers=headers), 403, "participant-revoked")
