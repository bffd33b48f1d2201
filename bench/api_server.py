"""The portal for ``python -m bench api``, in its own process (as it runs in production: the load generator must not
share an interpreter with it): ``python -m bench.api_server RPC DEPLOYMENT DATABASE_URL PORT DIR``.

uvicorn runs with its fast parts (httptools parser, uvloop), no access log, the start-up objects frozen out of the
garbage collector's generations (``bledger serve`` does the same), and the relayer and indexer as background threads
polling every 50 ms."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import uvicorn

from api.app import create_app
from api.chain import ChainContext
from api.settings import Settings
from chain_client.backends import RpcBackend
from chain_client.demo import PARTIES
from chain_client.suite import Deployment


def main(rpc: str, deployment: str, database_url: str, port: int, workdir: str) -> None:
    backend = RpcBackend(rpc)
    suite = Deployment.load(Path(deployment))
    relayer = dict(zip(PARTIES, backend.funded_accounts(len(PARTIES)), strict=True))["portal"]
    settings = Settings(database_url=database_url, document_dir=Path(workdir) / "docs", background=True,
                        poll_seconds=0.05, domain=f"127.0.0.1:{port}", uri=f"http://127.0.0.1:{port}")
    app = create_app(settings, ChainContext(backend.w3, suite, relayer))
    gc.collect()
    gc.freeze()  # the start-up objects (web3, ABIs, routes) leave the collector's generations: shorter pauses
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, http="httptools",
                loop="uvloop", backlog=2048)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
