"""OpenZeppelin ``StandardMerkleTree`` for ``bytes32`` values, in Python.

Leaves are double-hashed, ``keccak256(keccak256(abi.encode(value)))``, sorted, and laid out in a complete binary tree
exactly as ``@openzeppelin/merkle-tree`` lays them out, so roots and proofs agree with the JavaScript library and
verify with ``MerkleProof.verify`` on-chain (sorted-pair hashing).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

try:  # the C implementation is ~6x faster than pycryptodome's, which matters at a million leaves
    from sha3 import keccak_256 as _keccak_256

    def keccak(data: bytes) -> bytes:
        return _keccak_256(data).digest()

except ImportError:  # pragma: no cover - safe-pysha3 is a declared dependency
    from Crypto.Hash import keccak as _keccak

    def _keccak_256(data: bytes) -> Any:  # type: ignore[misc]
        return _keccak.new(digest_bits=256, data=data)

    def keccak(data: bytes) -> bytes:
        return _keccak.new(digest_bits=256, data=data).digest()


def leaf_hash(value: bytes) -> bytes:
    """Leaf of a ``bytes32`` value (abi.encode of a bytes32 is the value itself)."""
    if len(value) != 32:
        raise ValueError("a leaf value must be 32 bytes")
    return keccak(keccak(value))


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


def keccak_many(items: Iterable[bytes]) -> list[bytes]:
    """``[keccak(x) for x in items]``, with the hash bound once (the import hashes millions of identifiers)."""
    k = _keccak_256
    return [k(x).digest() for x in items]


class MerkleTree:
    """A tree over ``bytes32`` values. ``tree[0]`` is the root; leaves sit at the end of the array."""

    def __init__(self, values: Iterable[bytes]) -> None:
        k = _keccak_256
        values = list(values)
        for v in values:
            if len(v) != 32:
                raise ValueError("a leaf value must be 32 bytes")
        # (leaf, value) pairs sorted by leaf: leaves are distinct hashes, so the tuple order is the leaf order
        leaves = sorted([(k(k(v).digest()).digest(), v) for v in values])
        if not leaves:
            raise ValueError("a Merkle tree needs at least one leaf")
        n = len(leaves)
        size = 2 * n - 1
        # leaves sit at the end of the array, the smallest last
        tree: list[bytes] = [b""] * (size - n) + [h for h, _ in reversed(leaves)]
        self._position: dict[bytes, int] = {v: size - 1 - i for i, (_, v) in enumerate(leaves)}
        for i in range(size - 1 - n, -1, -1):
            a, b = tree[2 * i + 1], tree[2 * i + 2]
            tree[i] = k(a + b).digest() if a < b else k(b + a).digest()
        self.tree = tree
        if len(self._position) != n:
            raise ValueError("duplicate values in a Merkle tree")

    @property
    def root(self) -> bytes:
        return self.tree[0]

    def __len__(self) -> int:
        return len(self._position)

    def __contains__(self, value: bytes) -> bool:
        return value in self._position

    def proof(self, value: bytes) -> list[bytes]:
        index = self._position.get(value)
        if index is None:
            raise KeyError("value not in the tree")
        proof = []
        while index > 0:
            sibling = index - 1 if index % 2 == 0 else index + 1
            proof.append(self.tree[sibling])
            index = (index - 1) // 2
        return proof


def verify(root: bytes, value: bytes, proof: Sequence[bytes]) -> bool:
    """``MerkleProof.verify`` in Python."""
    node = leaf_hash(value)
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node == root
