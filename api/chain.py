"""The API's view of the chain: the deployed suite through chain_client's typed clients, the relayer's key, and
the capture of a typed client's call (to have a participant sign it instead of sending it)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from chain_client.backends import RpcBackend
from chain_client.errors import LedgerError
from chain_client.keys import load_account
from chain_client.suite import Deployment, Ledger
from chain_client.transactions import TxSender
from chain_client.vocabulary import AUTHORITY_ROLES, BusinessRole, ParticipantStatus


class _Captured(Exception):
    def __init__(self, call: ContractFunction) -> None:
        super().__init__("captured")
        self.call = call


class _CaptureSubmitter:
    """A :class:`chain_client.transactions.Submitter` that sends nothing: it hands back the call."""

    def submit(self, account: Any, call: ContractFunction, gas: int | None = None) -> TxReceipt:
        raise _Captured(call)


@dataclass(frozen=True)
class SignerRef:
    """Stands for a participant's account in a typed client's call: the API never holds participants' keys."""

    address: str


@dataclass(frozen=True)
class Permissions:
    """What an address may do, read from the registry at request time."""

    address: str
    registered: bool
    status: ParticipantStatus
    roles: list[BusinessRole]
    authorities: list[str]
    suspended_roles: list[BusinessRole] = field(default_factory=list)
    revoked_roles: list[BusinessRole] = field(default_factory=list)

    def role_status(self, role: BusinessRole) -> ParticipantStatus:
        """Each role's status is set by the authority administering it."""
        if role in self.revoked_roles:
            return ParticipantStatus.REVOKED
        if role not in self.roles:
            return ParticipantStatus.NONE
        return ParticipantStatus.SUSPENDED if role in self.suspended_roles else ParticipantStatus.ACTIVE

    @property
    def active(self) -> bool:
        return self.status == ParticipantStatus.ACTIVE


class ChainContext:
    """The suite on one node: ``ledger`` for reads (and the relayer's own sends), ``capture`` for writes to sign."""

    def __init__(self, w3: Web3, deployment: Deployment, relayer: LocalAccount) -> None:
        self.w3 = w3
        self.deployment = deployment
        self.relayer = relayer
        self.sender = TxSender(w3)
        self.ledger = Ledger(w3, deployment, self.sender)
        self._builder = Ledger(w3, deployment, _CaptureSubmitter())
        self.chain_id = deployment.chain_id
        self.forwarder = self.ledger.forwarder
        self.suite_addresses = set(deployment.contracts.values())
        self._pinned: dict[int, Ledger] = {}
        self._pinned_lock = threading.Lock()
        self._permissions: dict[tuple[str, int], Permissions] = {}
        self._signer_locks: dict[str, threading.Lock] = {}

    @classmethod
    def connect(cls, rpc_urls: list[str], deployment: Deployment, relayer_key: str) -> ChainContext:
        """The suite on the nodes ``rpc_urls`` (one or several nodes of one chain: with several, reads fail over,
        a signed transaction is re-broadcast to another node, never signed twice; see chain_client.failover)."""
        if not rpc_urls:
            raise LedgerError("no node URL given (settings rpc_urls)")
        try:
            backend = RpcBackend(rpc_urls, timeout=10)
            chain_id = backend.w3.eth.chain_id
        except Exception as exc:  # noqa: BLE001 - one clear error whatever the transport said
            raise LedgerError(f"no node answered at {', '.join(rpc_urls)}: {exc}") from None
        if chain_id != deployment.chain_id:
            raise LedgerError(f"the nodes at {', '.join(rpc_urls)} are chain {chain_id}, the deployment is for chain "
                              f"{deployment.chain_id}")
        return cls(backend.w3, deployment, load_account(relayer_key, chain_id=deployment.chain_id))

    def capture(self, act: Callable[[Ledger, Any], Any], signer: str) -> ContractFunction:
        """The contract call a typed client would send for ``act(ledger, signer)``, without sending it."""
        try:
            act(self._builder, cast(Any, SignerRef(Web3.to_checksum_address(signer))))
        except _Captured as captured:
            return captured.call
        raise LedgerError("the act made no contract call")

    def permissions(self, address: str) -> Permissions:
        """What ``address`` may do, read from the registry for the current head block: requests of one block share
        one set of registry reads (a change of roles or status is a transaction, so a new block, so new reads)."""
        block = self.block_number()
        key = (address, block)
        with self._pinned_lock:
            found = self._permissions.get(key)
        if found is not None:
            return found
        reg = self.ledger.registry
        p = reg.participant(address)
        authorities = [name for name in AUTHORITY_ROLES if reg.has_authority(name, address)]
        found = Permissions(address, p.status != ParticipantStatus.NONE, p.status, p.roles, authorities,
                            list(p.suspended_roles), list(p.revoked_roles))
        with self._pinned_lock:
            self._permissions[key] = found
            if len(self._permissions) > 4_096:
                for old in [k for k in self._permissions if k[1] < block]:
                    del self._permissions[old]
        return found

    def signer_lock(self, signer: str) -> threading.Lock:
        """Serialises what one signer prepares and submits (its forwarder nonces are in order); other signers'
        requests go through at the same time."""
        with self._pinned_lock:
            return self._signer_locks.setdefault(signer.lower(), threading.Lock())

    def ledger_at(self, block: int) -> Ledger:
        """Typed clients whose every read is of the state at ``block`` (a web3 over the same node connection with
        ``block`` as its default block): the reads of one answer all reflect the block it reports."""
        with self._pinned_lock:
            found = self._pinned.get(block)
            if found is None:
                w3 = Web3(self.w3.provider)
                w3.eth.default_block = block
                found = self._pinned[block] = Ledger(w3, self.deployment, self.sender)
                for old in sorted(self._pinned)[:-4]:  # a few recent blocks are enough
                    del self._pinned[old]
            return found

    def block_number(self) -> int:
        return int(self.w3.eth.block_number)

    def chain_time(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])
