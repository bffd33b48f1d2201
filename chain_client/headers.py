"""Block headers: the RLP a node hashes, its fields, and the Clique (EIP-225) seal.

A header's hash is ``keccak256(rlp(fields))``. The field list grew with the forks (London: base fee; Shanghai:
withdrawals root; Cancun: blob gas and beacon root; Prague: requests hash); :func:`header_rlp` encodes whatever a
node reports, in the consensus order, and the caller checks that the result hashes to the node's block hash.

A Clique block is sealed by one of the signers: the last 65 bytes of its extra-data are a secp256k1 signature
``r . s . v`` over ``keccak256(rlp(header with those 65 bytes removed))`` (go-ethereum's ``clique.SealHash``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rlp
from coincurve import PublicKey
from eth_hash.auto import keccak

#: Header fields in consensus order, as JSON-RPC names them; the first 15 are always present.
HEADER_FIELDS = (
    "parentHash", "sha3Uncles", "miner", "stateRoot", "transactionsRoot", "receiptsRoot", "logsBloom", "difficulty",
    "number", "gasLimit", "gasUsed", "timestamp", "extraData", "mixHash", "nonce",
    "baseFeePerGas", "withdrawalsRoot", "blobGasUsed", "excessBlobGas", "parentBeaconBlockRoot", "requestsHash",
)
_INTEGERS = {"difficulty", "number", "gasLimit", "gasUsed", "timestamp", "baseFeePerGas", "blobGasUsed",
             "excessBlobGas"}
SEAL_LENGTH = 65
VANITY_LENGTH = 32


class HeaderError(ValueError):
    """A header that does not decode, or whose seal does not recover."""


def _raw(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, int):
        return hex(value)
    return str(value)


def header_rlp(block: dict[str, Any]) -> bytes:
    """The RLP of a block header from its JSON-RPC representation (``eth_getBlockByNumber``)."""
    items: list[bytes | int] = []
    for name in HEADER_FIELDS:
        if name not in block or block[name] is None:
            if name in HEADER_FIELDS[:15]:
                raise HeaderError(f"the node's block has no {name}")
            break
        text = _raw(block[name])
        if name in _INTEGERS:
            items.append(int(text, 16))
        else:
            items.append(bytes.fromhex(text.removeprefix("0x")))
    return rlp.encode(items)


@dataclass(frozen=True)
class Header:
    raw: bytes
    fields: list[bytes]

    @property
    def hash(self) -> bytes:
        return keccak(self.raw)

    @property
    def parent_hash(self) -> bytes:
        return self.fields[0]

    @property
    def state_root(self) -> bytes:
        return self.fields[3]

    @property
    def number(self) -> int:
        return int.from_bytes(self.fields[8], "big")

    @property
    def timestamp(self) -> int:
        return int.from_bytes(self.fields[11], "big")

    @property
    def extra_data(self) -> bytes:
        return self.fields[12]


def decode_header(raw: bytes) -> Header:
    """Decodes a header, insisting on the canonical encoding (so one header has exactly one byte form)."""
    try:
        fields = rlp.decode(raw, strict=True)
    except Exception:  # noqa: BLE001 - rlp raises several types for malformed input
        raise HeaderError("the block header is not valid RLP") from None
    if not isinstance(fields, list) or not 15 <= len(fields) <= len(HEADER_FIELDS) or \
            not all(isinstance(f, bytes) for f in fields):
        raise HeaderError("the block header does not have the fields of an Ethereum header")
    if len(fields[0]) != 32 or len(fields[3]) != 32 or len(fields[8]) > 8 or len(fields[11]) > 8:
        raise HeaderError("the block header's fields have the wrong sizes")
    if rlp.encode(fields) != raw:
        raise HeaderError("the block header is not canonically encoded")
    for i in (7, 8, 9, 10, 11):
        if fields[i][:1] == b"\x00":
            raise HeaderError("the block header is not canonically encoded")
    return Header(raw, fields)


def clique_seal_hash(header: Header) -> bytes:
    """What a Clique signer signs: the header hash with the seal cut from the extra-data."""
    extra = header.extra_data
    if len(extra) < VANITY_LENGTH + SEAL_LENGTH:
        raise HeaderError(f"block {header.number}'s extra-data is too short to hold a Clique seal")
    fields = list(header.fields)
    fields[12] = extra[:-SEAL_LENGTH]
    return keccak(rlp.encode(fields))


def clique_signer(header: Header) -> str:
    """The address that sealed ``header`` (lower-case 0x-hex)."""
    digest = clique_seal_hash(header)
    seal = header.extra_data[-SEAL_LENGTH:]
    if seal[64] > 1:
        raise HeaderError(f"block {header.number}'s seal has an invalid recovery id")
    try:
        public = PublicKey.from_signature_and_message(seal, digest, hasher=None).format(compressed=False)
    except Exception:  # noqa: BLE001 - an invalid signature point
        raise HeaderError(f"block {header.number}'s seal does not recover a key") from None
    return "0x" + keccak(public[1:])[12:].hex()
