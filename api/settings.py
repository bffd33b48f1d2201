"""API settings (pydantic-settings): environment variables prefixed ``BLEDGER_API_``."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DOCUMENT_TYPES = ["application/pdf", "application/json", "text/plain", "text/csv", "image/png", "image/jpeg"]


class Settings(BaseSettings):
    """Where the chain, the database and the documents are, and the API's limits."""

    model_config = SettingsConfigDict(env_prefix="BLEDGER_API_")

    #: JSON-RPC URLs of the node(s), tried in order; empty: the caller supplies a chain (embedded, tests).
    rpc_urls: list[str] = []
    #: Deployment file of the suite (addresses, deployment block).
    deployment_file: Path = Path("deployment.json")
    #: SQLAlchemy URL: ``sqlite:///file.db`` (embedded default) or ``postgresql+psycopg://user@host:port/db``.
    database_url: str = "sqlite:///bledger-api.db"
    #: Key paying the relayed transactions' gas: ``env:NAME``, ``keystore:PATH`` or ``dev:N``.
    relayer_key: str = "env:BLEDGER_RELAYER_KEY"
    #: The portal's battery data folder, as the CLI's ``--data``: the battery index and batch files (for proof
    #: bundles), the published model data sheets and per-battery records (for the public passport page).
    data_dir: Path = Path("bledger-data")
    #: Directory of uploaded documents (content-addressed by keccak256).
    document_dir: Path = Path("bledger-documents")
    max_document_bytes: int = 5_000_000
    document_types: list[str] = DOCUMENT_TYPES
    #: Sign-in with Ethereum binding: the domain and URI the messages must name.
    domain: str = "localhost"
    uri: str = "http://localhost"
    nonce_ttl_seconds: int = 600
    session_ttl_seconds: int = 8 * 3600
    #: Lifetime of a prepared forward request's signature.
    request_ttl_seconds: int = 3600
    #: The indexer follows blocks this deep below the head.
    confirmations: int = 0
    index_batch_blocks: int = 2_000
    #: Run the relayer and the indexer as background threads (``bledger serve``); tests drive them by hand.
    background: bool = False
    poll_seconds: float = 0.5
    receipt_timeout_seconds: float = 30.0
    #: Retry-After given when the node cannot be reached.
    retry_after_seconds: int = 5
