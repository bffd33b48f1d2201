"""The base of the typed contract clients."""

from __future__ import annotations

from web3.contract import Contract

from chain_client.transactions import Submitter


class ContractClient:
    """A deployed contract and the way its writes are submitted (directly, or relayed through the forwarder)."""

    def __init__(self, contract: Contract, submitter: Submitter) -> None:
        self.contract = contract
        self.submit = submitter.submit

    @property
    def address(self) -> str:
        return str(self.contract.address)
