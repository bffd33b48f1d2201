"""Start and stop a local anvil node (npm ``@foundry-rs/anvil``) for tests, benchmarks and demos."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from web3 import Web3

from chain_client.build import NODE_MODULES

ANVIL_BIN = NODE_MODULES / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AnvilNode:
    """An anvil process on a free loopback port, stopped on exit. Use as a context manager."""

    def __init__(self, binary: Path = ANVIL_BIN, port: int | None = None, extra_args: list[str] | None = None):
        if not binary.is_file():
            raise FileNotFoundError(f"anvil not found at {binary}: run `npm ci`")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [str(binary), "--host", "127.0.0.1", "--port", str(self.port), "--silent", "--gas-limit", "30000000",
                "--accounts", "30"]
        self._proc = subprocess.Popen(args + (extra_args or []), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        w3 = Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 2}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                raise RuntimeError(f"anvil exited with {self._proc.returncode}: {err}")
            try:
                w3.eth.block_number
                return
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"anvil did not answer on {self.url} within {timeout}s")

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> AnvilNode:
        return self

    def __exit__(self, t: type[BaseException] | None, v: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
