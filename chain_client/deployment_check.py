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
    empty = [name for name, address in deployment.contracts.items()
             if len(w3.eth.get_code(Web3.to_checksum_address(address))) == 0]
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
