"""The inter-ministerial policy committee: a k-of-n Safe multisig of the ministries proposing to a timelock.

Governance of the suite is the registry's ``DEFAULT_ADMIN_ROLE``, held by the committee's timelock
(``PolicyTimelock``, OpenZeppelin's ``TimelockController``); its only proposer and canceller is the ministries' Safe
(``@safe-global/safe-contracts`` 1.4.1). A rule change (a :class:`RuleChange`: one call the timelock will make) goes:

1. **propose**: a ministry checks that the call would succeed if the timelock made it now, wraps
   ``timelock.schedule(call, delay)`` as a Safe transaction and signs its EIP-712 hash (``SafeTx``). The
   :class:`Proposal` (call, Safe nonce, signatures) is a JSON file the ministries pass around: the Safe keeps no
   pending transactions on-chain, so the file plays the part of Safe's transaction service.
2. **approve**: another ministry checks the proposal against the chain and adds its signature.
3. **schedule**: with ``threshold`` valid signatures anyone submits the Safe transaction; the timelock records the
   operation (``CallScheduled``) and starts the delay.
4. **execute**: once the delay has passed, anyone has the timelock make the call (``CallExecuted``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import Hash32
from eth_utils.exceptions import ValidationError
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt, Wei

from chain_client.errors import REVERT_EXCEPTIONS, ContractRevert, LedgerError, as_revert, decodes_reverts
from chain_client.events import events_in
from chain_client.transactions import Submitter

ZERO_ADDRESS = "0x" + "00" * 20
ZERO32 = b"\x00" * 32


class GovernanceError(LedgerError):
    """A committee step that cannot be taken (not a member, not enough signatures, not ready yet ...)."""


class OperationState(IntEnum):
    """``TimelockController.OperationState``."""

    UNSET = 0
    WAITING = 1
    READY = 2
    DONE = 3


@dataclass(frozen=True)
class RuleChange:
    """One call the timelock makes when the committee's decision is executed."""

    target: str
    data: bytes
    description: str
    value: int = 0

    @classmethod
    def of(cls, contract: Contract, function: str, args: Sequence[Any], description: str) -> RuleChange:
        return cls(str(contract.address), bytes.fromhex(contract.encode_abi(function, list(args))[2:]), description)

    @classmethod
    def call(cls, call: ContractFunction, description: str = "") -> RuleChange:
        """The change that makes ``call`` (a bound web3 contract function) from the timelock."""
        data = bytes.fromhex(call._encode_transaction_data().removeprefix("0x"))
        return cls(str(call.address), data, description or call.fn_name)


@dataclass
class Proposal:
    """A rule change on its way through the committee, as the ministries pass it around (JSON)."""

    chain_id: int
    safe: str
    timelock: str
    change: RuleChange
    delay: int
    safe_nonce: int
    salt: bytes
    proposed_by: str
    predecessor: bytes = ZERO32
    signatures: dict[str, bytes] = field(default_factory=dict)  # member address -> 65-byte signature (r, s, v)

    @property
    def operation_id(self) -> bytes:
        """The timelock's id of the operation (``hashOperation``)."""
        return bytes(Web3.keccak(encode(["address", "uint256", "bytes", "bytes32", "bytes32"], [
            self.change.target, self.change.value, self.change.data, self.predecessor, self.salt])))

    def to_json(self) -> dict[str, Any]:
        return {
            "chainId": self.chain_id, "safe": self.safe, "timelock": self.timelock,
            "operationId": "0x" + self.operation_id.hex(),
            "change": {"target": self.change.target, "value": self.change.value,
                       "data": "0x" + self.change.data.hex(), "description": self.change.description},
            "predecessor": "0x" + self.predecessor.hex(), "salt": "0x" + self.salt.hex(), "delay": self.delay,
            "safeNonce": self.safe_nonce, "proposedBy": self.proposed_by,
            "signatures": {k: "0x" + v.hex() for k, v in self.signatures.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Proposal:
        c = data["change"]
        return cls(
            chain_id=int(data["chainId"]), safe=Web3.to_checksum_address(data["safe"]),
            timelock=Web3.to_checksum_address(data["timelock"]),
            change=RuleChange(Web3.to_checksum_address(c["target"]), bytes.fromhex(c["data"].removeprefix("0x")),
                              str(c["description"]), int(c["value"])),
            delay=int(data["delay"]), safe_nonce=int(data["safeNonce"]),
            salt=bytes.fromhex(data["salt"].removeprefix("0x")),
            proposed_by=Web3.to_checksum_address(data["proposedBy"]),
            predecessor=bytes.fromhex(data["predecessor"].removeprefix("0x")),
            signatures={Web3.to_checksum_address(k): bytes.fromhex(v.removeprefix("0x"))
                        for k, v in data["signatures"].items()},
        )

    def save(self, directory: Path) -> Path:
        """Writes ``DIR/0x<operation id>.json`` and returns its path."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"0x{self.operation_id.hex()}.json"
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> Proposal:
        try:
            return cls.from_json(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise GovernanceError(f"{path} is not a committee proposal: {exc}") from exc


@dataclass(frozen=True)
class ScheduledOperation:
    """An operation the timelock holds (from its ``CallScheduled`` events)."""

    operation_id: bytes
    target: str
    data: bytes
    state: OperationState
    ready_at: int


class Committee:
    """Typed client of the policy committee: its Safe and its timelock."""

    def __init__(self, w3: Web3, safe: Contract, timelock: Contract, submitter: Submitter) -> None:
        self.w3 = w3
        self.safe = safe
        self.timelock = timelock
        # The Safe and the timelock do not trust the suite's forwarder: their transactions are sent directly.
        self.submit = getattr(submitter, "sender", submitter).submit

    # reads ------------------------------------------------------------------------------------------------
    @decodes_reverts
    def members(self) -> list[str]:
        return [Web3.to_checksum_address(a) for a in self.safe.functions.getOwners().call()]

    @decodes_reverts
    def threshold(self) -> int:
        return int(self.safe.functions.getThreshold().call())

    @decodes_reverts
    def delay(self) -> int:
        return int(self.timelock.functions.getMinDelay().call())

    @decodes_reverts
    def safe_nonce(self) -> int:
        return int(self.safe.functions.nonce().call())

    @decodes_reverts
    def state(self, operation_id: bytes) -> OperationState:
        return OperationState(self.timelock.functions.getOperationState(operation_id).call())

    @decodes_reverts
    def ready_at(self, operation_id: bytes) -> int:
        """Unix time from which the operation can be executed (0: unknown, 1: done)."""
        return int(self.timelock.functions.getTimestamp(operation_id).call())

    @decodes_reverts
    def has_role(self, role: str, account: str) -> bool:
        return bool(self.timelock.functions.hasRole(Web3.keccak(text=role), Web3.to_checksum_address(account)).call())

    def schedule_call(self, proposal: Proposal) -> ContractFunction:
        c = proposal.change
        return self.timelock.functions.schedule(c.target, c.value, c.data, proposal.predecessor, proposal.salt,
                                                proposal.delay)

    @decodes_reverts
    def safe_tx_hash(self, proposal: Proposal) -> bytes:
        """The EIP-712 ``SafeTx`` hash the members sign (computed by the Safe itself)."""
        data = self.schedule_call(proposal)._encode_transaction_data()
        return bytes(self.safe.functions.getTransactionHash(
            self.timelock.address, 0, data, 0, 0, 0, 0, ZERO_ADDRESS, ZERO_ADDRESS, proposal.safe_nonce).call())

    def valid_signers(self, proposal: Proposal) -> list[str]:
        """Members whose signature in ``proposal`` matches the proposal's Safe transaction, in address order."""
        digest = self.safe_tx_hash(proposal)
        members = set(self.members())
        found = []
        for member, signature in proposal.signatures.items():
            try:
                signer = Account._recover_hash(digest, signature=signature)
            except Exception:  # noqa: BLE001 - a damaged signature simply does not count
                continue
            if signer == member and member in members:
                found.append(member)
        return sorted(found, key=lambda a: int(a, 16))

    def scheduled(self, from_block: int = 0) -> list[ScheduledOperation]:
        """Every operation the timelock scheduled since ``from_block``, with its current state."""
        logs = self.timelock.events.CallScheduled().get_logs(from_block=from_block)
        found = []
        for log in logs:
            op = bytes(log["args"]["id"])
            found.append(ScheduledOperation(op, log["args"]["target"], bytes(log["args"]["data"]), self.state(op),
                                            self.ready_at(op)))
        return found

    def check_change(self, change: RuleChange) -> None:
        """Raises the call's own error (e.g. ``TransportInvalidPolicy``) if the timelock could not make it now.

        Best effort: a node that refuses to simulate a call from an account without ether (the embedded py-evm
        chain does) skips the check; the timelock's ``execute`` then fails with the same error."""
        try:
            self.w3.eth.call({"from": self.timelock.address, "to": Web3.to_checksum_address(change.target),
                              "data": Web3.to_hex(change.data), "value": Wei(change.value)})
        except REVERT_EXCEPTIONS as exc:
            error = as_revert(exc)
            if isinstance(error, ContractRevert):
                raise error from None
        except ValidationError:  # eth-tester: "cannot afford txn gas"
            pass

    # steps ------------------------------------------------------------------------------------------------
    def _member(self, account: LocalAccount) -> None:
        if account.address not in self.members():
            raise GovernanceError(f"{account.address} is not a member of the policy committee")

    def _sign(self, member: LocalAccount, proposal: Proposal) -> None:
        signed = member.unsafe_sign_hash(Hash32(self.safe_tx_hash(proposal)))
        proposal.signatures[member.address] = bytes(signed.signature)

    def propose(self, member: LocalAccount, change: RuleChange, delay: int | None = None,
                salt: bytes | None = None) -> Proposal:
        """A new proposal for ``change``, signed by ``member`` (nothing is sent to the chain)."""
        self._member(member)
        min_delay = self.delay()
        delay = min_delay if delay is None else delay
        if delay < min_delay:
            raise GovernanceError(f"the delay must be at least the timelock's {min_delay} s")
        self.check_change(change)
        proposal = Proposal(self.w3.eth.chain_id, str(self.safe.address), str(self.timelock.address), change, delay,
                            self.safe_nonce(), salt or os.urandom(32), member.address)
        if self.state(proposal.operation_id) != OperationState.UNSET:
            raise GovernanceError("this operation is already known to the timelock: use another salt")
        self._sign(member, proposal)
        return proposal

    def _check_current(self, proposal: Proposal) -> None:
        if (proposal.chain_id, proposal.safe, proposal.timelock) != (
                self.w3.eth.chain_id, self.safe.address, self.timelock.address):
            raise GovernanceError("this proposal is for another chain or another committee")
        state = self.state(proposal.operation_id)
        if state != OperationState.UNSET:
            raise GovernanceError(f"the operation is already scheduled ({state.name.lower()})")
        nonce = self.safe_nonce()
        if proposal.safe_nonce != nonce:
            raise GovernanceError(f"the proposal was built for Safe nonce {proposal.safe_nonce} but the Safe is at "
                                  f"{nonce} (another decision went first): propose it again")

    def approve(self, member: LocalAccount, proposal: Proposal) -> Proposal:
        """Adds ``member``'s signature to ``proposal`` (checked against the chain first)."""
        self._member(member)
        self._check_current(proposal)
        if member.address in self.valid_signers(proposal):
            raise GovernanceError(f"{member.address} has already signed this proposal")
        self.check_change(proposal.change)
        self._sign(member, proposal)
        return proposal

    def schedule(self, executor: LocalAccount, proposal: Proposal) -> TxReceipt:
        """Has the Safe schedule the operation in the timelock (needs ``threshold`` signatures)."""
        self._check_current(proposal)
        signers = self.valid_signers(proposal)
        threshold = self.threshold()
        if len(signers) < threshold:
            raise GovernanceError(f"{len(signers)} of {threshold} signatures: more ministries must approve")
        signatures = b"".join(proposal.signatures[s] for s in signers[:threshold])
        data = self.schedule_call(proposal)._encode_transaction_data()
        receipt = self.submit(executor, self.safe.functions.execTransaction(
            self.timelock.address, 0, data, 0, 0, 0, 0, ZERO_ADDRESS, ZERO_ADDRESS, signatures))
        if not events_in(self.safe, "ExecutionSuccess", receipt):
            raise GovernanceError("the Safe did not execute the transaction")
        return receipt

    def execute(self, executor: LocalAccount, proposal: Proposal) -> TxReceipt:
        """Has the timelock make the call once the delay has passed (anyone may do this)."""
        op = proposal.operation_id
        state = self.state(op)
        if state == OperationState.UNSET:
            raise GovernanceError("the operation is not scheduled yet: the committee has not decided")
        if state == OperationState.DONE:
            raise GovernanceError("the operation was already executed")
        if state == OperationState.WAITING:
            ready = self.ready_at(op)
            now = int(self.w3.eth.get_block("latest")["timestamp"])
            raise GovernanceError(f"the delay runs until {ready} (chain time {now}, {ready - now} s to go)")
        c = proposal.change
        return self.submit(executor, self.timelock.functions.execute(c.target, c.value, c.data, proposal.predecessor,
                                                                     proposal.salt))

    def enact(self, members: Sequence[LocalAccount], change: RuleChange, wait: Any) -> TxReceipt:
        """The whole way for ``change``: the first member proposes, the next ones approve up to the threshold, the
        first schedules, ``wait(seconds)`` lets the delay pass (time travel on a dev chain), the first executes."""
        proposal = self.propose(members[0], change)
        for member in members[1:self.threshold()]:
            self.approve(member, proposal)
        self.schedule(members[0], proposal)
        wait(proposal.delay + 1)
        return self.execute(members[0], proposal)
