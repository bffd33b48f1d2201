"""The base of the typed contract clients."""

from __future__ import annotations

from typing import Self

from web3.contract import Contract

from chain_client.transactions import Pipeline, Submitter, pipeline_submitter, via


class ContractClient:
    """A deployed contract and the way its writes are submitted (directly, or relayed through the forwarder)."""

    def __init__(self, contract: Contract, submitter: Submitter) -> None:
        self.contract = contract
        self.submitter = submitter
        self.submit = submitter.submit

    def via(self, pipeline: Pipeline) -> Self:
        """This client with its writes sent through ``pipeline`` (not awaited one by one): ``with
        sender.pipeline() as p: certs.via(p).transfer(...)``. A method that reads its own receipt (an id from an
        event) awaits the pipeline at that point."""
        return via(self, pipeline_submitter(self.submitter, pipeline))

    @property
    def address(self) -> str:
        return str(self.contract.address)
