"""``bledger serve``, ``bledger index rebuild`` and ``bledger api sign|openapi``: the API's CLI commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from eth_account import Account
from eth_account.messages import encode_defunct

from chain_client.cli.common import KeyPolicy, console, reports_errors
from chain_client.errors import LedgerError
from chain_client.keys import load_account

index = typer.Typer(no_args_is_help=True)
tools = typer.Typer(no_args_is_help=True)

RpcOpt = Annotated[str | None, typer.Option("--rpc", envvar="BLEDGER_RPC",
                                            help="JSON-RPC URL of the node (default: a fresh embedded chain).")]
DeploymentOpt = Annotated[Path, typer.Option("--deployment", envvar="BLEDGER_DEPLOYMENT", help="Deployment file.")]
DatabaseOpt = Annotated[str | None, typer.Option("--database-url", envvar="BLEDGER_API_DATABASE_URL",
                                                 help="SQLAlchemy URL (default: SQLite file bledger-api.db).")]


def attach(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(index, name="index", help="The API's chain index (SQL).")
    app.add_typer(tools, name="api", help="API helpers: sign prepared requests and sign-in messages, OpenAPI.")


@reports_errors
def serve(
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo story first and print the parties' keys.")] = False,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    rpc: RpcOpt = None,
    deployment: DeploymentOpt = Path("deployment.json"),
    database_url: DatabaseOpt = None,
    relayer: Annotated[str, typer.Option("--relayer", envvar="BLEDGER_RELAYER",
                                         help="Key paying the relayed gas (env:NAME, keystore:PATH, dev:N).")] = "dev:4",
    documents: Annotated[Path, typer.Option(help="Document directory.")] = Path("bledger-documents"),
    data: Annotated[Path, typer.Option("--data", envvar="BLEDGER_DATA", help=(
        "Battery data folder (index, batch files, data sheets, records) for proofs and passport pages; "
        "--demo writes its documents there."))] = Path("bledger-data"),
    domain: Annotated[str | None, typer.Option(help="Sign-in domain (default: HOST:PORT).")] = None,
) -> None:
    """Start the API with its relayer and indexer: on the embedded chain and SQLite by default (a fresh suite is
    deployed, or the demo story with --demo); with --rpc on a deployed suite."""
    import uvicorn

    from api.app import create_app
    from api.chain import ChainContext
    from api.settings import Settings
    from chain_client.backends import EmbeddedBackend, RpcBackend
    from chain_client.demo import PARTIES, run_demo
    from chain_client.suite import Deployment
    from chain_client.suite import deploy as deploy_suite
    from chain_client.transactions import TxSender

    where = domain or f"{host}:{port}"
    settings = Settings(database_url=database_url or "sqlite:///bledger-api.db", document_dir=documents, data_dir=data,
                        domain=where, uri=f"http://{where}", background=True, relayer_key=relayer,
                        rpc_urls=[rpc] if rpc else [], deployment_file=deployment)
    backend: EmbeddedBackend | RpcBackend = EmbeddedBackend() if rpc is None else RpcBackend(rpc)
    if demo:
        result = run_demo(backend, console, data=data)
        assert result.deployment is not None
        suite = result.deployment
    elif rpc is None:
        accounts = backend.funded_accounts(4)
        suite = deploy_suite(backend.w3, TxSender(backend.w3), accounts[0],
                             {"moe": accounts[1].address, "motie": accounts[2].address, "molit": accounts[3].address})
    else:
        if not deployment.is_file():
            raise LedgerError(f"deployment file {deployment} not found: run `bledger deploy --rpc URL`")
        suite = Deployment.load(deployment)
    if rpc is None or demo:
        if database_url is None:
            Path("bledger-api.db").unlink(missing_ok=True)  # a fresh chain: a fresh index
        keys = dict(zip(PARTIES, backend.funded_accounts(len(PARTIES)), strict=True))
        print("sign-in keys of the parties (dev keys, for this local chain only):")
        for n, (name, account) in enumerate(keys.items()):
            print(f"  {name:12} --key dev:{n:<3} {account.address}  0x{bytes(account.key).hex()}")
    # the embedded chain is this process's own throwaway chain: its dev keys are fine there
    relayer_account = load_account(relayer, chain_id=suite.chain_id,
                                   allow_dev_keys=KeyPolicy.allow_dev_keys or rpc is None)
    chain = ChainContext(backend.w3, suite, relayer_account)
    app = create_app(settings, chain)
    console.print(f"API on http://{where}  (OpenAPI: http://{where}/docs), chain {suite.chain_id}, "
                  f"database {settings.database_url}")
    import gc

    gc.collect()
    gc.freeze()  # the start-up objects (web3, ABIs, routes) leave the collector's generations: shorter pauses
    uvicorn.run(app, host=host, port=port, log_level="warning")


@index.command("rebuild")
@reports_errors
def rebuild(rpc: Annotated[str, typer.Option("--rpc", envvar="BLEDGER_RPC", help="JSON-RPC URL of the node.")],
            deployment: DeploymentOpt = Path("deployment.json"), database_url: DatabaseOpt = None) -> None:
    """Drop the chain index and build it again from the chain alone."""
    from api.chain import ChainContext
    from api.db import make_engine, migrate
    from api.indexer import Indexer
    from chain_client.backends import RpcBackend
    from chain_client.suite import Deployment

    backend = RpcBackend(rpc)
    chain = ChainContext(backend.w3, Deployment.load(deployment), Account.create())  # reads only: no relayer
    engine = make_engine(database_url or "sqlite:///bledger-api.db")
    migrate(engine)
    events = Indexer(chain, engine).rebuild()
    console.print(f"indexed {events} events up to block {backend.w3.eth.block_number}")


def _chain_of(data: object) -> int | None:
    """The chain a prepared request or a sign-in challenge is for (dev keys are accepted on dev chains only)."""
    if not isinstance(data, dict):
        return None
    domain = data.get("typed_data", {}).get("domain", {}) if isinstance(data.get("typed_data"), dict) else {}
    if isinstance(domain, dict) and isinstance(domain.get("chainId"), int):
        return int(domain["chainId"])
    for line in str(data.get("message", "")).split("\n"):
        if line.startswith("Chain ID: ") and line[10:].isdigit():
            return int(line[10:])
    return None


def _read(source: str) -> str:
    return sys.stdin.read() if source == "-" else Path(source).read_text()


@tools.command("sign")
@reports_errors
def sign(
    key: Annotated[str, typer.Option("--key", envvar="BLEDGER_KEY", help="env:NAME, keystore:PATH or dev:N.")],
    prepared: Annotated[str | None, typer.Option(help="A prepared act (JSON file or - for stdin): prints the "
                                                      "body to POST to /v1/requests.")] = None,
    message: Annotated[str | None, typer.Option(help="A sign-in challenge (JSON file or -): prints the body to POST "
                                                     "to /v1/auth/sign-in.")] = None,
) -> None:
    """Sign locally what the API prepared (the key never leaves this machine)."""
    from api.sdk import sign_prepared

    if (prepared is None) == (message is None):
        raise LedgerError("give exactly one of --prepared and --message")
    try:
        data = json.loads(_read(prepared or message or "-"))
    except (OSError, ValueError) as exc:
        raise LedgerError(f"not JSON: {exc}") from None
    if isinstance(data, dict) and "type" in data and "detail" in data:
        raise LedgerError(f"nothing to sign: the API answered {data.get('status')} {data['detail']}")
    try:
        account = load_account(key, chain_id=_chain_of(data), allow_dev_keys=KeyPolicy.allow_dev_keys)
        if prepared is not None:
            print(json.dumps(sign_prepared(account, data)))
        else:
            text = data["message"]
            signature = account.sign_message(encode_defunct(text=text)).signature.to_0x_hex()
            print(json.dumps({"message": text, "signature": signature}))
    except (KeyError, TypeError, ValueError) as exc:
        what = "a prepared request" if prepared is not None else "a sign-in challenge"
        raise LedgerError(f"this JSON is not {what} of the API ({type(exc).__name__}: {exc})") from None


@tools.command("openapi")
@reports_errors
def openapi() -> None:
    """Write docs/openapi.json from the application."""
    from api.app import create_app
    from api.chain import ChainContext
    from api.openapi import OPENAPI_FILE, render
    from api.settings import Settings
    from chain_client.backends import EmbeddedBackend
    from chain_client.suite import deploy as deploy_suite
    from chain_client.transactions import TxSender

    backend = EmbeddedBackend()
    governance, moe, motie, molit = backend.funded_accounts(4)
    suite = deploy_suite(backend.w3, TxSender(backend.w3), governance,
                         {"moe": moe.address, "motie": motie.address, "molit": molit.address})
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(database_url=f"sqlite:///{tmp}/o.db"), ChainContext(backend.w3, suite, governance))
        OPENAPI_FILE.write_text(render(app))
        app.state.engine.dispose()
    console.print(f"wrote {OPENAPI_FILE}")
