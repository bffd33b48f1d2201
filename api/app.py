"""The application factory: settings -> chain, database (migrated), relayer, indexer, routers."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import problems
from api.chain import ChainContext
from api.db import make_engine, migrate
from api.indexer import Indexer
from api.relayer import Relayer
from api.routes import (
    applications,
    auth,
    certification,
    credentials,
    dashboard,
    documents,
    evaluation,
    lifecycle,
    passports,
    public,
    registry,
    requests,
    safety,
)
from api.settings import Settings
from chain_client.suite import Deployment

#: The verification page (static; the verifier runs in the browser): web/verify/ of the checkout.
VERIFY_PAGE = Path(__file__).resolve().parents[1] / "web" / "verify"

DESCRIPTION = """The Battery Ledger portal. Participants sign in with Ethereum (EIP-4361), prepare an act (the API
returns the EIP-712 forward request to sign), sign it with their own key and submit it to `/v1/requests`; the portal
relays it and pays the gas. Lists read a SQL index of the chain and say which block they reflect; `/v1/public/`
needs no sign-in. Errors are RFC 9457 problem details, with the contract's custom error where the chain refused."""


def create_app(settings: Settings | None = None, chain: ChainContext | None = None) -> FastAPI:
    """Builds the API. ``chain`` is given by callers that own the node (embedded chain, tests); otherwise it is
    connected from ``settings.rpc_urls`` and ``settings.deployment_file``."""
    settings = settings or Settings()
    if chain is None:
        from chain_client.keys import load_account  # noqa: F401 - the relayer key is loaded by connect()

        chain = ChainContext.connect(settings.rpc_urls, Deployment.load(settings.deployment_file),
                                     settings.relayer_key)
    engine = make_engine(settings.database_url)
    migrate(engine)
    relayer = Relayer(chain, engine, settings.receipt_timeout_seconds)
    indexer = Indexer(chain, engine, settings.confirmations, settings.index_batch_blocks)
    stop = threading.Event()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        threads = []
        if settings.background:
            stop.clear()
            for worker in (relayer, indexer):
                t = threading.Thread(target=worker.run_forever, args=(stop, settings.poll_seconds), daemon=True,
                                     name=type(worker).__name__.lower())
                t.start()
                threads.append(t)
        yield
        stop.set()
        for t in threads:
            t.join(timeout=10)

    app = FastAPI(title="Battery Ledger API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                  responses=problems.responses(400, 422, 500, 503))
    app.state.settings = settings
    app.state.chain = chain
    app.state.engine = engine
    app.state.relayer = relayer
    app.state.indexer = indexer
    problems.install(app, settings.retry_after_seconds)
    for module in (auth, requests, registry, certification, lifecycle, evaluation, safety, documents, applications,
                   public, passports, credentials, dashboard):
        app.include_router(module.router)
    app.mount("/verify", StaticFiles(directory=VERIFY_PAGE, html=True), name="verify")
    return app
