"""The API's CLI commands: local signing of what the API prepared, and the index rebuild."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from chain_client.cli import app
from tests.api.conftest import Api
from tests.api.test_flow import lot_body
from tests.conftest import World

runner = CliRunner()


def test_sign_prepared_and_challenge(embedded_api: Api, tmp_path: Path) -> None:
    api, w = embedded_api, embedded_api.world
    challenge = api.client.post("/v1/auth/challenge", json={"address": w.recycler.address}).text
    (tmp_path / "c.json").write_text(challenge)
    out = runner.invoke(app, ["--allow-dev-keys", "api", "sign", "--key", "dev:5", "--message", str(tmp_path / "c.json")])
    assert out.exit_code == 0, out.output
    token = api.client.post("/v1/auth/sign-in", json=json.loads(out.stdout)).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    prepared = api.client.post("/v1/certification/lots", json=lot_body(api), headers=headers).text
    (tmp_path / "p.json").write_text(prepared)
    out = runner.invoke(app, ["--allow-dev-keys", "api", "sign", "--key", "dev:5", "--prepared", str(tmp_path / "p.json")])
    assert out.exit_code == 0, out.output
    assert api.client.post("/v1/requests", json=json.loads(out.stdout), headers=headers).status_code == 202


def test_sign_refuses_what_is_not_a_prepared_request(tmp_path: Path) -> None:
    (tmp_path / "problem.json").write_text(json.dumps({"type": "x/contract-refused", "status": 422,
                                                       "detail": "the chain refused the act"}))
    out = runner.invoke(app, ["--allow-dev-keys", "api", "sign", "--key", "dev:5", "--prepared", str(tmp_path / "problem.json")])
    assert out.exit_code == 1 and "nothing to sign" in out.output and "Traceback" not in out.output
    out = runner.invoke(app, ["--allow-dev-keys", "api", "sign", "--key", "dev:5", "--prepared", str(tmp_path / "missing.json")])
    assert out.exit_code == 1 and "not JSON" in out.output


def test_index_rebuild_from_the_chain(anvil_world: World, api_anvil: object, tmp_path: Path) -> None:
    w = anvil_world
    snapshot = w.backend.snapshot()
    try:
        w.certified_lot(grams=4_242)
        w.deployment.save(tmp_path / "deployment.json")
        url = f"sqlite:///{tmp_path / 'index.db'}"
        out = runner.invoke(app, ["index", "rebuild", "--rpc", w.backend.url,  # type: ignore[attr-defined]
                                  "--deployment", str(tmp_path / "deployment.json"), "--database-url", url])
        assert out.exit_code == 0, out.output
        with create_engine(url).connect() as conn:
            assert conn.execute(text("SELECT mass_grams, status FROM ix_lot")).all() == [(4242, 2)]
    finally:
        w.backend.revert(snapshot)
        w.sender.nonces.reset()
