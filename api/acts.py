"""Preparing an act: the typed client's call, captured and wrapped into the forward request to sign."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from api.chain import ChainContext
from api.forwarding import PreparedRequest, prepare
from api.settings import Settings
from chain_client.suite import Ledger

PREPARED = "the forward request to sign; then POST it with the signature to /v1/requests"


def prepared(chain: ChainContext, db: Session, settings: Settings, act: str, signer: str,
             fn: Callable[[Ledger, Any], Any]) -> PreparedRequest:
    """``fn(ledger, signer)`` is the typed client's write (e.g. ``lambda l, s: l.certificates.certify(s, 7)``)."""
    call = chain.capture(fn, signer)
    with chain.signer_lock(signer):
        return prepare(chain, db, act, signer, call, settings.request_ttl_seconds)
