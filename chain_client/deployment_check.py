"""Is the deployment file describing the chain we talk to? Checked before any write and on every resume: a reset
chain, another chain with the same id, or a node that lost the deployment's blocks must not be mistaken for it."""

from __future__ import annotations

from web3 import Web3

from chain_client.errors import LedgerError
from chain_client.suite import Deployment


class DeploymentMismatch(LedgerError):
    """The deployment file does not describe the chain the node serves."""


def verify_deployment(w3: Web3, deployment: Deployment, source: str = "the deployment file") -> None:
    """Raises :class:`DeploymentMismatch` unless the node's chain id is the deployment's, every contract address
    holds code, and (when the file records it) the deployment block has the recorded hash."""
    chain_id = w3.eth.chain_id
    if chain_id != deployment.chain_id:
        raise DeploymentMismatch(f"{source} is for chain {deployment.chain_id}, the node serves chain {chain_id}")
    empty = [name for name, code in zip(deployment.contracts, _codes(w3, list(deployment.contracts.values())),
                                        strict=True) if len(code) == 0]
    if empty:
        raise DeploymentMismatch(
            f"{source} does not match this chain: no contract code at {', '.join(empty)} "
            f"({deployment.contracts[empty[0]]}): the chain was reset or is another one; deploy again or use the "
            "right --deployment / --rpc")
    if deployment.block_hash:
        head = w3.eth.block_number
        if deployment.block_number > head:
            raise DeploymentMismatch(f"{source} was deployed at block {deployment.block_number}, the node is at "
                                     f"block {head}: it lost the deployment's blocks or is another chain")
        actual = w3.eth.get_block(deployment.block_number)["hash"]
        if bytes(actual).hex() != deployment.block_hash.removeprefix("0x").lower():
            raise DeploymentMismatch(f"{source} does not match this chain: block {deployment.block_number} has hash "
                                     f"0x{bytes(actual).hex()}, the deployment recorded {deployment.block_hash}")


def _codes(w3: Web3, addresses: list[str]) -> list[bytes]:
    """The code at each address: one JSON-RPC batch request (a dozen round trips fewer at every command's start),
    or one request each on a provider without batches (the embedded chain)."""
    checksummed = [Web3.to_checksum_address(a) for a in addresses]
    try:
        with w3.batch_requests() as batch:
            for address in checksummed:
                batch.add(w3.eth.get_code(address))
            return [bytes(code) for code in batch.execute()]  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - no batches here: one by one (their own errors, if any, are the ones to report)
        return [bytes(w3.eth.get_code(address)) for address in checksummed]
