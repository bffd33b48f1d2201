"""API tests: the app on a real chain (embedded py-evm, anvil) and a real database (SQLite, a PostgreSQL server
this session starts and stops). Each test gets a fresh database and a chain snapshot."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.chain import ChainContext
from api.settings import Settings
from chain_client.anvil import AnvilNode, free_port
from chain_client.backends import EmbeddedBackend, RpcBackend
from tests.conftest import World, _base_state

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PostgresServer:
    """A throwaway PostgreSQL 15 server (Debian's package) in a temp dir owned by ``postgres``, on a free port."""

    def __init__(self) -> None:
        if not (PG_BIN / "initdb").is_file():
            raise RuntimeError("PostgreSQL 15 is not installed: run ./scripts/setup")
        self.dir = Path(tempfile.mkdtemp(prefix="bledger-pg-"))
        self.port = free_port()
        as_postgres = os.geteuid() == 0
        if as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._prefix = ["runuser", "-u", "postgres", "--"] if as_postgres else []
        data = self.dir / "data"
        self._run([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "app", "--no-sync"])
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(self.dir / "log"), "-w", "-o",
                   f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
        self._counter = itertools.count()

    def _run(self, args: list[str]) -> None:
        subprocess.run(self._prefix + args, check=True, capture_output=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://app@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = f"t{os.getpid()}_{next(self._counter)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=app dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(self._prefix + [str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate",
                                       "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def embedded_world() -> World:
    return _base_state(EmbeddedBackend())


@pytest.fixture(scope="session")
def api_anvil() -> Iterator[AnvilNode]:
    with AnvilNode() as node:
        yield node


@pytest.fixture(scope="session")
def anvil_world(api_anvil: AnvilNode) -> World:
    backend = RpcBackend(api_anvil.url)
    backend.name = "anvil"  # type: ignore[misc]
    return _base_state(backend)


@dataclass
class Api:
    """The app under test, its client, and helpers to sign in and to sign prepared requests."""

    world: World
    app: FastAPI
    client: TestClient
    settings: Settings
    database_url: str

    def sign_in(self, account: LocalAccount) -> dict[str, str]:
        challenge = self.client.post("/v1/auth/challenge", json={"address": account.address})
        assert challenge.status_code == 200, challenge.text
        message = challenge.json()["message"]
        signature = account.sign_message(encode_defunct(text=message)).signature.to_0x_hex()
        r = self.client.post("/v1/auth/sign-in", json={"message": message, "signature": signature})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def prepare(self, account: LocalAccount, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
                ) -> dict[str, Any]:
        r = self.client.post(path, json=body, headers=headers or self.sign_in(account))
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    @staticmethod
    def sign(account: LocalAccount, prepared: dict[str, Any]) -> dict[str, Any]:
        signed = Account.sign_typed_data(account.key, full_message=prepared["typed_data"])
        return {"request": prepared["request"], "signature": signed.signature.to_0x_hex()}

    def act(self, account: LocalAccount, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Prepare, sign, submit and relay one act; returns the final request status."""
        headers = self.sign_in(account)
        prepared = self.prepare(account, path, body, headers)
        r = self.client.post("/v1/requests", json=self.sign(account, prepared), headers=headers)
        assert r.status_code == 202, r.text
        self.app.state.relayer.run_once()
        status = self.client.get(f"/v1/requests/{r.json()['id']}", headers=headers).json()
        return status  # type: ignore[no-any-return]

    def index(self) -> int:
        return int(self.app.state.indexer.run_once())


def make_api(world: World, database_url: str, documents: Path, **overrides: Any) -> Api:
    settings = Settings(database_url=database_url, document_dir=documents, **overrides)
    chain = ChainContext(world.backend.w3, world.deployment, world.accounts["portal"])
    app = create_app(settings, chain)
    client = TestClient(app, raise_server_exceptions=False)
    return Api(world, app, client, settings, database_url)


#: Each pairing covers one database and one chain: (embedded, SQLite) and (anvil, PostgreSQL).
PAIRS = [pytest.param(("embedded", "sqlite"), id="embedded-sqlite"),
         pytest.param(("anvil", "postgresql"), id="anvil-postgresql")]


@pytest.fixture(params=PAIRS)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    chain_name, db_name = request.param
    world: World = request.getfixturevalue(f"{chain_name}_world")
    url = (request.getfixturevalue("postgres").new_database() if db_name == "postgresql"
           else f"sqlite:///{tmp_path / 'api.db'}")
    snapshot = world.backend.snapshot()
    built = make_api(world, url, tmp_path / "documents")
    try:
        yield built
    finally:
        built.client.close()
        built.app.state.engine.dispose()
        world.backend.revert(snapshot)
        world.sender.nonces.reset()


@pytest.fixture
def embedded_api(embedded_world: World, tmp_path: Path) -> Iterator[Api]:
    """Embedded chain and SQLite only: for tests of the API's own logic where the pairing adds nothing."""
    snapshot = embedded_world.backend.snapshot()
    built = make_api(embedded_world, f"sqlite:///{tmp_path / 'api.db'}", tmp_path / "documents")
    try:
        yield built
    finally:
        built.client.close()
        built.app.state.engine.dispose()
        embedded_world.backend.revert(snapshot)
        embedded_world.sender.nonces.reset()
