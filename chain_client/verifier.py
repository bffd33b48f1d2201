"""Offline verification of a proof bundle against a trust file (no network, no node, no portal).

What is checked, in this order (the first failure is the verdict):

1. the bundle is ASCII, valid JSON, and in canonical form (sorted keys, one-space indent, lower-case hex), so any
   changed byte either breaks a proof or the form;
2. its fields are exactly those of format version 1 (``chain_client/schemas/proof-bundle.schema.json``);
3. the chain id is the trust file's;
4. the block header decodes, and is the chain's: its hash is the pinned block hash, or (Clique) its seal recovers to a
   pinned signer and enough descendant headers, each sealed by a pinned signer, follow it;
5. each contract's account proof (EIP-1186) holds against the header's state root, at the pinned address, with the
   pinned code hash (so the storage layout in the trust file is the layout of that code);
6. every storage value the verdict needs holds against that account's storage root, read slot by slot in a fixed
   order (:mod:`chain_client.ledger_state`), with nothing missing and nothing extra;
7. shares, taint, EU Article 8 compliance and coverage are recomputed from the raw values; a claim that is not
   attested, is tainted, or does not cover the battery is a failure.

``web/verify/src/verifier.js`` does the same in the browser; the test vectors check that both give the same verdict.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import rlp
from eth_hash.auto import keccak
from trie import HexaryTrie
from trie.exceptions import BadTrieProof

from chain_client.headers import Header, HeaderError, clique_signer, decode_header
from chain_client.storage_slots import NEEDED
from chain_client.ledger_state import (
    CERTIFICATES,
    CLAIMS,
    PASSPORTS,
    TARGETS,
    StateView,
    VerificationFailure,
    compute_facts,
    iso_time,
    judgement,
    read_state,
)

BUNDLE_FORMAT = "battery-ledger-proof-bundle"
TRUST_FORMAT = "battery-ledger-trust"
VERSION = 1
#: The accounts a bundle proves, in the order it lists them.
CONTRACTS = (PASSPORTS, CLAIMS, CERTIFICATES, TARGETS)
KINDS = ("battery", "claim")
MAX_SAFE_INTEGER = 2**53 - 1
MAX_CONFIRMATIONS = 64
_HEX = re.compile(r"^0x[0-9a-f]*$")


@dataclass
class Verdict:
    """``ok`` and the facts, or the first failure. ``as_dict()`` is what both verifiers print as JSON."""

    ok: bool
    failure: str | None = None
    facts: dict[str, Any] | None = None
    block: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "failure": self.failure, "block": self.block, "facts": self.facts}


def canonical_json(obj: Any) -> str:
    """The one byte form of a bundle (Python's and the browser's serialisations agree on it)."""
    return json.dumps(obj, indent=1, sort_keys=True) + "\n"


def _fail(message: str) -> VerificationFailure:
    return VerificationFailure(message)


# ----------------------------------------------------------------------------------------------- form and fields

def _only_safe_numbers(obj: Any) -> bool:
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return True
    if isinstance(obj, int):
        return -MAX_SAFE_INTEGER <= obj <= MAX_SAFE_INTEGER
    if isinstance(obj, float):
        return False
    if isinstance(obj, list):
        return all(_only_safe_numbers(x) for x in obj)
    if isinstance(obj, dict):
        return all(_only_safe_numbers(v) for v in obj.values())
    return False


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity: Python accepts them, JSON (and browsers) do not


def parse_bundle(data: bytes) -> dict[str, Any]:
    if not data.isascii():
        raise _fail("the bundle contains non-ASCII bytes")
    try:
        obj = json.loads(data.decode("ascii"), parse_constant=_no_constant)
    except ValueError:
        raise _fail("the bundle is not valid JSON (truncated or damaged)") from None
    if not _only_safe_numbers(obj) or canonical_json(obj).encode() != data:
        raise _fail("the bundle is not in canonical form (changed or re-serialised after it was made)")
    if not isinstance(obj, dict):
        raise _fail("the bundle is not a JSON object")
    return obj


def _keys(obj: Any, where: str, required: set[str]) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise _fail(f"{where} is not an object")
    keys = set(obj)
    if keys != required:
        missing, extra = sorted(required - keys), sorted(keys - required)
        detail = "; ".join(p for p in (f"missing {', '.join(missing)}" if missing else "",
                                       f"unexpected {', '.join(extra)}" if extra else "") if p)
        raise _fail(f"{where} does not have the fields of format version {VERSION} ({detail})")
    return obj


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(f"{where} is not a non-negative integer")
    return value


def _hex(value: Any, where: str, size: int | None = None) -> bytes:
    if not isinstance(value, str) or not _HEX.match(value) or len(value) % 2:
        raise _fail(f"{where} is not lower-case 0x-hex")
    raw = bytes.fromhex(value[2:])
    if size is not None and len(raw) != size:
        raise _fail(f"{where} is not {size} bytes")
    return raw


def _hex_list(value: Any, where: str, size: int | None = None) -> list[bytes]:
    if not isinstance(value, list):
        raise _fail(f"{where} is not a list")
    return [_hex(v, f"{where}[{i}]", size) for i, v in enumerate(value)]


@dataclass
class Trust:
    chain_id: int
    anchor: dict[str, Any]
    min_block: int
    contracts: dict[str, dict[str, str]]
    layout: dict[str, Any]
    authorities: dict[str, list[str]] = field(default_factory=dict)


def _small_int(value: Any, low: int = 0, high: int = 2**32) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _check_layout(layout: dict[str, Any]) -> None:
    """Every variable of the layout has the shape the state reader uses (so a bad trust file fails, not crashes)."""
    for contract, variables in layout.items():
        if not isinstance(variables, dict):
            raise _fail(f"the trust file's layout of {contract} is malformed")
        for label, var in variables.items():
            ok = isinstance(var, dict) and _small_int(var.get("slot"), 0, 2**64) and _small_int(var.get("depth"), 0, 4)
            ok = ok and all(_small_int(var[k], 1, 32) for k in ("elementSlots", "elementBytes") if k in var)
            fields = var.get("fields") if isinstance(var, dict) else None
            ok = ok and isinstance(fields, dict) and len(fields) > 0
            for spec in (fields or {}).values() if ok else ():
                ok = ok and isinstance(spec, list) and len(spec) in (3, 4) and all(_small_int(x, 0, 64) for x in spec)
                ok = ok and spec[2] >= 1 and spec[1] + spec[2] <= 32 and (len(spec) == 3 or spec[3] >= 1)
            if not ok:
                raise _fail(f"the trust file's layout of {contract}.{label} is malformed")
    for contract, needed in NEEDED.items():
        for label, names in needed.items():
            var = layout.get(contract, {}).get(label)
            if var is None:
                raise _fail(f"the trust file's layout has no {contract}.{label}")
            for name in names:
                if name not in var["fields"]:
                    raise _fail(f"the trust file's layout has no {contract}.{label}.{name}")
            if label == "_years" and "elementBytes" not in var:
                raise _fail(f"the trust file's layout of {contract}.{label} is malformed")
            if label == "_content" and len(var["fields"]["contentGrams"]) != 4:
                raise _fail(f"the trust file's layout of {contract}.{label} is malformed")


def load_trust(data: bytes) -> Trust:
    """Reads a trust file (not required canonical: people publish and edit it); raises VerificationFailure."""
    try:
        obj = json.loads(data)
    except ValueError:
        raise _fail("the trust file is not valid JSON") from None
    if not isinstance(obj, dict) or obj.get("format") != TRUST_FORMAT or obj.get("version") != VERSION:
        raise _fail(f"the trust file is not a {TRUST_FORMAT} version {VERSION} file")
    anchor = obj.get("anchor")
    if not isinstance(anchor, dict) or anchor.get("type") not in ("block", "clique"):
        raise _fail("the trust file's anchor is neither a pinned block nor a Clique signer set")
    if anchor["type"] == "block":
        _hex(anchor.get("hash"), "the trust file's pinned block hash", 32)
    else:
        signers = anchor.get("signers")
        if not isinstance(signers, list) or not signers:
            raise _fail("the trust file's Clique signer set is empty")
        for s in signers:
            _hex(s, "a pinned signer address", 20)
        _int(anchor.get("confirmations"), "the trust file's confirmations")
    contracts = obj.get("contracts")
    if not isinstance(contracts, dict):
        raise _fail("the trust file pins no contracts")
    for name in CONTRACTS:
        entry = contracts.get(name)
        if not isinstance(entry, dict):
            raise _fail(f"the trust file does not pin {name}")
        _hex(entry.get("address"), f"the trust file's {name} address", 20)
        _hex(entry.get("codeHash"), f"the trust file's {name} code hash", 32)
    if not isinstance(obj.get("layout"), dict):
        raise _fail("the trust file has no storage layout")
    _check_layout(obj["layout"])
    authorities = obj.get("authorities", {})
    if not isinstance(authorities, dict) or not all(isinstance(v, list) for v in authorities.values()):
        raise _fail("the trust file's authorities are not lists of addresses")
    for name, keys in authorities.items():
        for k in keys:
            _hex(k, f"a pinned {name} address", 20)
    return Trust(_int(obj.get("chainId"), "the trust file's chainId"), anchor, _int(obj.get("minBlock", 0), "minBlock"),
                 contracts, obj["layout"], authorities)


# ------------------------------------------------------------------------------------------------------ the block

def _header(raw: bytes, what: str) -> Header:
    try:
        return decode_header(raw)
    except HeaderError as exc:
        raise _fail(f"{what}: {exc}") from None


def _signer(header: Header) -> str:
    try:
        return clique_signer(header)
    except HeaderError as exc:
        raise _fail(str(exc)) from None


def check_anchor(header: Header, descendants: list[bytes], trust: Trust) -> dict[str, Any]:
    """That ``header`` is the chain's, by the trust file's anchor; returns what the verdict says about the block."""
    anchor = trust.anchor
    block = {"number": header.number, "hash": "0x" + header.hash.hex(), "timestamp": header.timestamp,
             "time": iso_time(header.timestamp)}
    if anchor["type"] == "block":
        if descendants:
            raise _fail("the bundle carries confirmation headers, but the trust file pins a block hash")
        if "0x" + header.hash.hex() != anchor["hash"]:
            raise _fail(f"the block header (block {header.number}, hash 0x{header.hash.hex()}) is not the block the "
                        f"trust file pins ({anchor['hash']})")
        block["anchor"] = "pinned block hash"
    else:
        signers = set(anchor["signers"])
        signer = _signer(header)
        if signer not in signers:
            raise _fail(f"block {header.number} was sealed by {signer}, not by a signer the trust file pins")
        needed = int(anchor["confirmations"])
        if len(descendants) < needed:
            raise _fail(f"the bundle carries {len(descendants)} confirmation headers, the trust file asks for {needed}")
        if len(descendants) > MAX_CONFIRMATIONS:
            raise _fail(f"the bundle carries more than {MAX_CONFIRMATIONS} confirmation headers")
        previous = header
        for i, raw in enumerate(descendants):
            child = _header(raw, f"confirmation header {i + 1}")
            if child.parent_hash != previous.hash or child.number != previous.number + 1:
                raise _fail(f"confirmation header {i + 1} does not follow block {previous.number}")
            child_signer = _signer(child)
            if child_signer not in signers:
                raise _fail(f"block {child.number} was sealed by {child_signer}, not by a signer the trust file pins")
            previous = child
        block["anchor"] = f"Clique seal of {signer}, {len(descendants)} confirmations"
        block["signer"] = signer
    if header.number < trust.min_block:
        raise _fail(f"the bundle proves block {header.number}, older than block {trust.min_block} the trust file "
                    "requires (a later revocation would not show): ask for a fresh bundle")
    return block


# ------------------------------------------------------------------------------------------------------- proofs

def _ordered(root: bytes, nodes: list[bytes], what: str) -> None:
    """Proof nodes must form the path from the root, in order, with nothing extra."""
    if not nodes:
        raise _fail(f"the proof of {what} is empty")
    if keccak(nodes[0]) != root:
        raise _fail(f"the proof of {what} does not start at the root it is checked against")
    for i in range(1, len(nodes)):
        if keccak(nodes[i]) not in nodes[i - 1]:
            raise _fail(f"the proof of {what} is not a path (node {i} is not referenced by node {i - 1})")


def prove_value(root: bytes, key: bytes, nodes: list[bytes], what: str) -> bytes:
    """The value under ``keccak(key)`` in the trie of ``root`` (``b""`` when absent), checked with py-trie."""
    _ordered(root, nodes, what)
    try:
        decoded = [rlp.decode(n) for n in nodes]
        value = HexaryTrie.get_from_proof(root, keccak(key), decoded)
    except Exception:  # noqa: BLE001 - whatever py-trie raises on a bad node, the proof does not hold
        raise _fail(f"the proof of {what} does not hold") from None
    return bytes(value)


@dataclass
class _Account:
    name: str
    storage_root: bytes
    entries: list[tuple[int, bytes, list[bytes]]]
    next: int = 0
    cache: dict[int, bytes] = field(default_factory=dict)


class ProofReader:
    """A :class:`chain_client.ledger_state.SlotReader` that takes each value from the bundle, checked by its proof."""

    def __init__(self, accounts: dict[str, _Account]) -> None:
        self.accounts = accounts

    def read(self, contract: str, slot: int, what: str) -> bytes:
        acct = self.accounts[contract]
        if slot in acct.cache:
            return acct.cache[slot]
        slot_hex = "0x" + slot.to_bytes(32, "big").hex()
        if acct.next >= len(acct.entries):
            raise _fail(f"the bundle has no storage proof for {what} ({contract} slot {slot_hex})")
        index = acct.next
        entry_slot, value, nodes = acct.entries[index]
        acct.next += 1
        if entry_slot != slot:
            raise _fail(f"{contract} storage proof {index} is for slot 0x{entry_slot.to_bytes(32, 'big').hex()}, "
                        f"but the verifier reads {what} from slot {slot_hex}")
        leaf = prove_value(acct.storage_root, slot.to_bytes(32, "big"), nodes, f"{what} ({contract} slot {slot_hex})")
        expected = rlp.encode(int.from_bytes(value, "big")) if any(value) else b""
        # A zero value is canonically absent from the trie; some nodes (anvil) keep a written zero as RLP 0 (0x80).
        if leaf != expected and not (expected == b"" and leaf == b"\x80"):
            raise _fail(f"the value of {what} ({contract} slot {slot_hex}) is not the one its proof holds")
        acct.cache[slot] = value
        return value

    def check_all_used(self) -> None:
        for acct in self.accounts.values():
            if acct.next != len(acct.entries):
                raise _fail(f"{acct.name} storage proof {acct.next} is for a slot the verdict does not read")


def _accounts(bundle: dict[str, Any], state_root: bytes, trust: Trust) -> dict[str, _Account]:
    entries = bundle["accounts"]
    if not isinstance(entries, list) or len(entries) != len(CONTRACTS):
        raise _fail(f"the bundle must prove the accounts {', '.join(CONTRACTS)}")
    out: dict[str, _Account] = {}
    for i, (name, entry) in enumerate(zip(CONTRACTS, entries, strict=True)):
        e = _keys(entry, f"accounts[{i}]", {"contract", "address", "accountProof", "storage"})
        if e["contract"] != name:
            raise _fail(f"accounts[{i}] is {e['contract']!r}, expected {name}")
        address = _hex(e["address"], f"{name} address", 20)
        pinned = trust.contracts[name]
        if "0x" + address.hex() != pinned["address"].lower():
            raise _fail(f"{name} is proven at 0x{address.hex()}, not at {pinned['address']} the trust file pins")
        leaf = prove_value(state_root, address, _hex_list(e["accountProof"], f"{name} accountProof"),
                           f"the {name} account")
        if not leaf:
            raise _fail(f"there is no {name} account at 0x{address.hex()} in block's state")
        try:
            nonce, balance, storage_root, code_hash = rlp.decode(leaf)
        except (rlp.exceptions.DecodingError, ValueError):
            raise _fail(f"the {name} account is not an Ethereum account record") from None
        if "0x" + bytes(code_hash).hex() != pinned["codeHash"].lower():
            raise _fail(f"the code at {name}'s address is not the code the trust file pins")
        storage = e["storage"]
        if not isinstance(storage, list):
            raise _fail(f"{name} storage is not a list")
        rows = []
        for j, s in enumerate(storage):
            s = _keys(s, f"{name} storage[{j}]", {"slot", "value", "proof"})
            rows.append((int.from_bytes(_hex(s["slot"], f"{name} storage[{j}].slot", 32), "big"),
                         _hex(s["value"], f"{name} storage[{j}].value", 32),
                         _hex_list(s["proof"], f"{name} storage[{j}].proof")))
        out[name] = _Account(name, bytes(storage_root), rows)
    return out


# ------------------------------------------------------------------------------------------------------ verdict

def _verify(data: bytes, trust: Trust) -> Verdict:
    bundle = parse_bundle(data)
    top = _keys(bundle, "the bundle", {"format", "version", "kind", "chainId", "subject", "header", "descendants",
                                       "accounts"})
    if top["format"] != BUNDLE_FORMAT or top["version"] != VERSION:
        raise _fail(f"the bundle is not a {BUNDLE_FORMAT} version {VERSION}")
    kind = top["kind"]
    if kind not in KINDS:
        raise _fail(f"the bundle's kind {kind!r} is not one of {', '.join(KINDS)}")
    wanted = {"claimId", "battery", "batteriesProof", "batch"} if kind == "battery" else {"claimId"}
    subject = _keys(top["subject"], "the bundle's subject", wanted)
    chain_id = _int(top["chainId"], "chainId")
    if chain_id != trust.chain_id:
        raise _fail(f"the bundle is for chain {chain_id}, the trust file for chain {trust.chain_id}")
    header = _header(_hex(top["header"], "header"), "the block header")
    block = check_anchor(header, _hex_list(top["descendants"], "descendants"), trust)
    claim_id = _int(subject["claimId"], "subject.claimId")
    identifier = None
    proof = batch_proof = None
    batch_id = None
    if kind == "battery":
        identifier = subject["battery"]
        if not isinstance(identifier, str) or not identifier or identifier != identifier.strip():
            raise _fail("subject.battery is not a canonical identifier")
        proof = _hex_list(subject["batteriesProof"], "subject.batteriesProof", 32)
        if subject["batch"] is not None:
            batch = _keys(subject["batch"], "subject.batch", {"batchId", "proof"})
            batch_id = _int(batch["batchId"], "subject.batch.batchId")
            batch_proof = _hex_list(batch["proof"], "subject.batch.proof", 32)
    reader = ProofReader(_accounts(top, header.state_root, trust))
    state = read_state(StateView(trust.layout, reader), claim_id, identifier, batch_id)
    reader.check_all_used()
    facts = compute_facts(state, proof, batch_proof)
    facts["chainId"] = chain_id
    failure = judgement(facts)
    return Verdict(ok=failure is None, failure=failure, facts=facts, block=block)


def verify_bundle(data: bytes, trust: Trust) -> Verdict:
    """Verifies the bytes of a bundle; never raises for bad input (the verdict names the first failure)."""
    try:
        return _verify(data, trust)
    except VerificationFailure as exc:
        return Verdict(ok=False, failure=str(exc))
    except RecursionError:
        return Verdict(ok=False, failure="the bundle is nested too deeply")


def render(verdict: Verdict) -> str:
    """The verdict as a person reads it."""
    if verdict.facts is None:
        return f"FAILED: {verdict.failure}"
    f, b = verdict.facts, verdict.block or {}
    lines = []
    if "battery" in f:
        bat = f["battery"]
        where = "own record" if bat["record"] else f"anchored in batch #{bat['batch']}"
        lines.append(f"battery   {bat['identifier']} ({bat['status']}{', closed' if bat['closed'] else ''}, {where})")
    m = f["model"]
    lines.append(f"model     {m['id']} ({m['category']}, {m['ratedEnergyWh']:,} Wh, metals {'/'.join(m['metals'])})")
    c = f["claim"]
    lines.append(f"claim     #{c['id']} {c['status']}{', TAINTED by lot #' + str(c['revokedLot']) if c['tainted'] else ''}"
                 f", custody {c['custodyModel']}{'' if c['custodyCounts'] else ' (does not count)'}")
    lots = ", ".join(f"#{lot['lotId']} {lot['material']} {lot['feedstock']} {lot['status']}" for lot in f["lots"])
    lines.append(f"lots      {lots}")
    for symbol, s in f["shares"].items():
        lines.append(f"share     {symbol:2} {s['shareBps'] / 100:6.2f} % (pre-consumer {s['preConsumerBps'] / 100:.2f} %, "
                     f"post-consumer {s['postConsumerBps'] / 100:.2f} %)")
    for year, e in f["eu"].items():
        per = ", ".join(f"{k} {v['shareBps'] / 100:.2f}/{v['minimumBps'] / 100:.2f} %" for k, v in e["metals"].items())
        scope = "" if e["inScope"] else " (model not in scope)"
        lines.append(f"EU {year}   {'meets' if e['meets'] else 'does not meet'} the minimums{scope}: {per}")
    lines.append(f"block     {b.get('number')} {b.get('hash')} at {b.get('time')} ({b.get('anchor')}), chain {f['chainId']}")
    head = "VERIFIED" if verdict.ok else f"FAILED: {verdict.failure}"
    return head + "\n" + "\n".join(lines)
