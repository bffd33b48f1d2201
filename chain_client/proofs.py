"""Proof bundles from a JSON-RPC node: a battery's (or a claim's) recycled-content state with EIP-1186 proofs.

The prover runs the verifier's own state reading (:func:`chain_client.ledger_state.read_state`) against the node,
recording each slot it reads, then asks ``eth_getProof`` for those slots of each contract at one block and packs
the block header (and, on Clique, descendant headers as confirmations). Needs a node that serves ``eth_getProof``
(anvil, geth, Hardhat, Besu); the embedded py-evm chain does not.

:func:`battery_bundle` and :func:`claim_bundle` are what the API calls; :func:`trust_anchors` writes the anchors this
node knows (the block hash or the Clique signers), for demos and tests: a real importer gets them from the ministries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_hash.auto import keccak
from web3 import Web3

from chain_client.battery_index import BatteryIndex
from chain_client.errors import LedgerError
from chain_client.headers import header_rlp
from chain_client.ledger_state import StateView, VerificationFailure, battery_key, read_state
from chain_client.merkle import MerkleTree
from chain_client.storage_slots import verifier_layout
from chain_client.suite import Deployment
from chain_client.verifier import BUNDLE_FORMAT, CONTRACTS, TRUST_FORMAT, VERSION, canonical_json


def _rpc(w3: Web3, method: str, params: list[Any]) -> Any:
    response = w3.provider.make_request(method, params)  # type: ignore[arg-type]
    if "error" in response:
        message = response["error"].get("message", response["error"]) if isinstance(response["error"], dict) \
            else response["error"]
        raise LedgerError(f"the node refused {method}: {message}")
    return response["result"]


class _RecordingReader:
    """Reads storage from the node at one block and remembers which slots were read, per contract, in order."""

    def __init__(self, w3: Web3, addresses: dict[str, str], block: int) -> None:
        self.w3, self.addresses, self.block = w3, addresses, block
        self.slots: dict[str, list[int]] = {name: [] for name in CONTRACTS}
        self.values: dict[tuple[str, int], bytes] = {}

    def read(self, contract: str, slot: int, what: str) -> bytes:
        key = (contract, slot)
        if key not in self.values:
            raw = _rpc(self.w3, "eth_getStorageAt", [self.addresses[contract], hex(slot), hex(self.block)])
            self.values[key] = bytes.fromhex(raw[2:]).rjust(32, b"\x00")
            self.slots[contract].append(slot)
        return self.values[key]


def _word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def _account_entry(w3: Web3, name: str, address: str, slots: list[int], values: dict[tuple[str, int], bytes],
                   block: int) -> dict[str, Any]:
    result = _rpc(w3, "eth_getProof", [address, [_word(s) for s in slots], hex(block)])
    storage = []
    for slot, item in zip(slots, result["storageProof"], strict=True):
        value = int(item["value"], 16)
        if int(item["key"], 16) != slot or value != int.from_bytes(values[(name, slot)], "big"):
            raise LedgerError(f"the node's proof of {name} slot {slot:#x} disagrees with its storage")
        storage.append({"slot": _word(slot), "value": _word(value), "proof": [p.lower() for p in item["proof"]]})
    return {"contract": name, "address": address.lower(), "accountProof": [p.lower() for p in result["accountProof"]],
            "storage": storage}


def _header_at(w3: Web3, number: int) -> tuple[bytes, str]:
    block = _rpc(w3, "eth_getBlockByNumber", [hex(number), False])
    if block is None:
        raise LedgerError(f"the node has no block {number}")
    raw = header_rlp(block)
    if "0x" + keccak(raw).hex() != block["hash"].lower():
        raise LedgerError(f"block {number}'s header does not re-encode to its hash (an unknown header field?)")
    return raw, block["hash"].lower()


def _block(w3: Web3, block: int | None, confirmations: int) -> int:
    latest = int(_rpc(w3, "eth_blockNumber", []), 16)
    number = latest - confirmations if block is None else block
    if number < 0 or number + confirmations > latest:
        raise LedgerError(f"block {number} has no {confirmations} confirmations yet (latest is {latest})")
    return number


def _bundle(w3: Web3, deployment: Deployment, kind: str, claim_id: int, identifier: str | None,
            batteries_proof: list[bytes] | None, block: int | None, confirmations: int,
            batch: tuple[int, list[bytes]] | None = None) -> dict[str, Any]:
    chain_id = int(_rpc(w3, "eth_chainId", []), 16)
    if chain_id != deployment.chain_id:
        raise LedgerError(f"deployment is for chain {deployment.chain_id}, node is chain {chain_id}")
    number = _block(w3, block, confirmations)
    addresses = {name: deployment.contracts[name] for name in CONTRACTS}
    reader = _RecordingReader(w3, addresses, number)
    try:
        read_state(StateView(verifier_layout(), reader), claim_id, identifier, batch[0] if batch else None)
    except VerificationFailure as exc:
        raise LedgerError(str(exc)) from None
    header, _ = _header_at(w3, number)
    descendants = [_header_at(w3, number + i)[0] for i in range(1, confirmations + 1)]
    subject: dict[str, Any] = {"claimId": claim_id}
    if kind == "battery":
        subject["battery"] = identifier
        subject["batteriesProof"] = ["0x" + p.hex() for p in batteries_proof or []]
        subject["batch"] = None if batch is None else {"batchId": batch[0], "proof": ["0x" + p.hex() for p in batch[1]]}
    return {
        "format": BUNDLE_FORMAT, "version": VERSION, "kind": kind, "chainId": chain_id, "subject": subject,
        "header": "0x" + header.hex(), "descendants": ["0x" + d.hex() for d in descendants],
        "accounts": [_account_entry(w3, name, addresses[name], reader.slots[name], reader.values, number)
                     for name in CONTRACTS],
    }


def find_claim(w3: Web3, deployment: Deployment, root: bytes) -> int:
    """The most recent attested claim whose batteries root is ``root``."""
    from chain_client.suite import contract_at

    claims = contract_at(w3, "UsageAttestations", deployment.contracts["UsageAttestations"])
    for claim_id in range(int(claims.functions.claimCount().call()), 0, -1):
        c = claims.functions.claim(claim_id).call()
        if bytes(c[10]) == root and int(c[1]) == 2:  # batteriesRoot (see IUsageAttestations.Claim), Attested
            return claim_id
    raise LedgerError(f"no attested claim has the batteries root 0x{root.hex()}")


def find_batch(w3: Web3, deployment: Deployment, root: bytes) -> int:
    """The most recent batch anchored with Merkle root ``root``."""
    from chain_client.suite import contract_at

    passports = contract_at(w3, "BatteryPassports", deployment.contracts["BatteryPassports"])
    for batch_id in range(int(passports.functions.batchCount().call()), 0, -1):
        if bytes(passports.functions.batch(batch_id).call()[4]) == root:
            return batch_id
    raise LedgerError(f"no batch has the root 0x{root.hex()}")


def battery_bundle(w3: Web3, deployment: Deployment, identifier: str, batteries: Sequence[str],
                   claim_id: int | None = None, block: int | None = None, confirmations: int = 0,
                   batch_batteries: Sequence[str] | None = None) -> dict[str, Any]:
    """The proof bundle of battery ``identifier``, covered by the claim over ``batteries`` (the identifiers whose
    Merkle root the claim carries; ``claim_id`` found from that root when not given). A battery anchored in a batch
    without its own record yet is proven into the batch over ``batch_batteries`` (default: ``batteries``)."""
    if identifier not in batteries:
        raise LedgerError(f"battery {identifier} is not in the list of batteries the claim covers")
    key = battery_key(identifier)
    tree = MerkleTree(battery_key(b) for b in batteries)
    if claim_id is None:
        claim_id = find_claim(w3, deployment, tree.root)
    from chain_client.suite import contract_at

    passports = contract_at(w3, "BatteryPassports", deployment.contracts["BatteryPassports"])
    batch = None
    if int(passports.functions.battery(key).call()[1]) == 0:
        members = list(batch_batteries) if batch_batteries is not None else list(batteries)
        if identifier not in members:
            raise LedgerError(f"battery {identifier} has no own record and is not in the batch list given")
        batch_tree = MerkleTree(battery_key(b) for b in members)
        batch = (find_batch(w3, deployment, batch_tree.root), batch_tree.proof(key))
    return _bundle(w3, deployment, "battery", claim_id, identifier, tree.proof(key), block, confirmations, batch)


def battery_bundle_from_index(w3: Web3, deployment: Deployment, index: BatteryIndex, identifier: str,
                              claim_id: int | None = None, block: int | None = None,
                              confirmations: int = 0) -> dict[str, Any]:
    """:func:`battery_bundle` with the battery list taken from the battery index (the portal's, or a data folder's):
    the imported batch holding the battery, whose root the covering claim carries."""
    from chain_client.battery_import import tree_of_file

    batch = index.batch_of(battery_key(identifier))
    if batch is None:
        raise LedgerError(f"battery {identifier} is not in any imported batch of the index: give the claim's battery "
                          "list instead")
    tree, members = tree_of_file(batch.data_file)
    if tree.root != batch.root:
        raise LedgerError(f"batch file {batch.data_file} does not match its anchored root")
    return battery_bundle(w3, deployment, identifier, members, claim_id, block, confirmations)


def claim_bundle(w3: Web3, deployment: Deployment, claim_id: int, block: int | None = None,
                 confirmations: int = 0) -> dict[str, Any]:
    """The proof bundle of usage claim ``claim_id`` (its allocations, lots, shares and EU result)."""
    return _bundle(w3, deployment, "claim", claim_id, None, None, block, confirmations)


def bundle_bytes(bundle: dict[str, Any]) -> bytes:
    """The canonical bytes of a bundle (the only form the verifiers accept)."""
    return canonical_json(bundle).encode()


def authority_accounts(w3: Web3, deployment: Deployment) -> dict[str, list[str]]:
    """The accounts holding the MoE and MOTIE roles now, from the registry's role events."""
    from chain_client.suite import contract_at
    from chain_client.vocabulary import MOE_ROLE, MOTIE_ROLE

    registry = contract_at(w3, "ParticipantRegistry", deployment.contracts["ParticipantRegistry"])
    out: dict[str, list[str]] = {}
    for name, role in (("moe", MOE_ROLE), ("motie", MOTIE_ROLE)):
        events = [(int(e["blockNumber"]), int(e["logIndex"]), True, e["args"]["account"]) for e in
                  registry.events.RoleGranted().get_logs(from_block=deployment.block_number,
                                                         argument_filters={"role": role})]
        events += [(int(e["blockNumber"]), int(e["logIndex"]), False, e["args"]["account"]) for e in
                   registry.events.RoleRevoked().get_logs(from_block=deployment.block_number,
                                                          argument_filters={"role": role})]
        holders: set[str] = set()
        for _, _, granted, account in sorted(events):
            (holders.add if granted else holders.discard)(str(account).lower())
        out[name] = sorted(holders)
    return out


def trust_anchors(w3: Web3, deployment: Deployment, bundle: dict[str, Any] | None = None,
                  signers: Sequence[str] | None = None, confirmations: int = 0,
                  authorities: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """A trust file with what this node knows: the pinned block hash of ``bundle``'s block (a dev node), or the
    Clique ``signers`` (asked from the node with ``clique_getSigners`` when not given, if ``confirmations`` > 0);
    the contracts' addresses and code hashes; the storage layout; the accounts holding the MoE and MOTIE roles
    (the credential issuers)."""
    contracts = {}
    for name in CONTRACTS:
        address = deployment.contracts[name]
        code = w3.eth.get_code(Web3.to_checksum_address(address))
        contracts[name] = {"address": address.lower(), "codeHash": "0x" + keccak(bytes(code)).hex()}
    anchor: dict[str, Any]
    if confirmations > 0 or signers:
        found = list(signers) if signers else _rpc(w3, "clique_getSigners", [])
        anchor = {"type": "clique", "signers": sorted(s.lower() for s in found), "confirmations": confirmations}
    else:
        if bundle is None:
            raise LedgerError("a pinned-block trust file needs the bundle whose block it pins")
        anchor = {"type": "block", "hash": "0x" + keccak(bytes.fromhex(bundle["header"][2:])).hex()}
    return {
        "format": TRUST_FORMAT, "version": VERSION, "chainId": deployment.chain_id, "anchor": anchor, "minBlock": 0,
        "contracts": contracts, "layout": verifier_layout(),
        "authorities": authorities if authorities is not None else authority_accounts(w3, deployment),
    }
