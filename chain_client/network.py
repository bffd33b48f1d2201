"""A permissioned multi-validator chain: N geth nodes sealing Clique proof-of-authority blocks (``bledger network``).

Each node stands for one ministry (or the portal operator): its own sealing key, its own data directory, its own
HTTP JSON-RPC port on loopback. Nodes peer statically (discovery off) and serve over HTTP only the APIs a client
needs (``eth``, ``net``, ``web3``); the node's operator reaches the ``clique`` and ``admin`` APIs through the node's
IPC socket, a file in its data directory, so only someone on that machine with access to the directory can vote.

Layout of a network directory::

    DIR/network.json          chain id, period, the nodes (name, signer, ports, enode, pid)
    DIR/genesis.json          Clique genesis: the initial sealers in extraData, funded accounts
    DIR/node1/                node1's data directory (geth --datadir): keystore/ (sealing key), password.txt,
                              geth/nodekey (p2p identity), geth/chaindata, config.toml (static peers), geth.log
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_keys import keys
from web3 import Web3

from chain_client.errors import LedgerError
from chain_client.geth import geth_binary
from chain_client.keys import dev_accounts

CHAIN_ID = 4242
DEFAULT_PERIOD = 1
GAS_LIMIT = 100_000_000  # far above the traffic: the base fee stays at its floor, fixed gas prices stay valid
DEV_FUNDS = 10**24  # wei per funded account (1,000,000 ether of a chain where gas has no market value)
HTTP_APIS = "eth,net,web3"
NETWORK_FILE = "network.json"


class NetworkError(LedgerError):
    """A network directory or node could not be used as asked."""


@dataclass
class NodeInfo:
    """One node: its name, sealing address, ports and, while it runs, its process id."""

    name: str
    signer: str
    http_port: int
    p2p_port: int
    authrpc_port: int
    enode: str
    pid: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


@dataclass
class Network:
    """A network directory and what ``network.json`` records about it."""

    directory: Path
    chain_id: int
    period: int
    nodes: list[NodeInfo]
    funded: list[str] = field(default_factory=list)
    watchdog_pid: int | None = None  # the fork-deadlock watchdog (chain_client/watchdog.py)

    # ---- files --------------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: Path) -> Network:
        path = directory / NETWORK_FILE
        try:
            data = json.loads(path.read_text())
            return cls(directory=directory.resolve(), chain_id=int(data["chainId"]), period=int(data["period"]),
                       nodes=[NodeInfo(**n) for n in data["nodes"]], funded=list(data.get("funded", [])),
                       watchdog_pid=data.get("watchdogPid"))
        except FileNotFoundError:
            raise NetworkError(f"no network in {directory}: run `bledger network up --dir {directory}`") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise NetworkError(f"{path} is not a network file: {exc}") from exc

    def save(self) -> None:
        data = {"chainId": self.chain_id, "period": self.period, "nodes": [asdict(n) for n in self.nodes],
                "funded": self.funded, "watchdogPid": self.watchdog_pid}
        tmp = self.directory / (NETWORK_FILE + ".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        tmp.replace(self.directory / NETWORK_FILE)

    def datadir(self, node: NodeInfo) -> Path:
        return self.directory / node.name

    def ipc_path(self, node: NodeInfo) -> Path:
        return self.datadir(node) / "geth.ipc"

    def log_path(self, node: NodeInfo) -> Path:
        return self.datadir(node) / "geth.log"

    def node(self, name: str) -> NodeInfo:
        for n in self.nodes:
            if n.name == name:
                return n
        raise NetworkError(f"no node {name!r} in {self.directory} (nodes: {', '.join(n.name for n in self.nodes)})")

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    # ---- processes ----------------------------------------------------------------------------------------------
    def is_running(self, node: NodeInfo) -> bool:
        """Whether the recorded PID is alive and is this node's geth (not a recycled PID)."""
        return _alive(node.pid, str(self.datadir(node)))

    def watchdog_running(self) -> bool:
        return _alive(self.watchdog_pid, str(self.directory), "chain_client.watchdog")

    def start_watchdog(self) -> None:
        """Starts the process that breaks Clique fork deadlocks (detached; `down` stops it)."""
        if self.watchdog_running():
            return
        log = (self.directory / "watchdog.log").open("ab")
        try:
            proc = subprocess.Popen([sys.executable, "-m", "chain_client.watchdog", str(self.directory)],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        finally:
            log.close()
        self.watchdog_pid = proc.pid
        self.save()

    def stop_watchdog(self) -> None:
        if self.watchdog_running():
            assert self.watchdog_pid is not None
            os.kill(self.watchdog_pid, signal.SIGTERM)
            while self.watchdog_running():
                time.sleep(0.05)
            _reap(self.watchdog_pid)
        self.watchdog_pid = None
        self.save()

    def command(self, node: NodeInfo) -> list[str]:
        d = self.datadir(node)
        return [
            str(geth_binary()), "--datadir", str(d), "--config", str(d / "config.toml"),
            "--networkid", str(self.chain_id), "--syncmode", "full",
            "--port", str(node.p2p_port), "--nodiscover", "--nat", "none", "--maxpeers", str(len(self.nodes) - 1),
            "--http", "--http.addr", "127.0.0.1", "--http.port", str(node.http_port), "--http.api", HTTP_APIS,
            "--authrpc.addr", "127.0.0.1", "--authrpc.port", str(node.authrpc_port),
            "--ipcpath", str(self.ipc_path(node)),
            "--miner.etherbase", node.signer, "--miner.gaslimit", str(GAS_LIMIT),
            "--miner.recommit", "1s",
            "--unlock", node.signer, "--password", str(d / "password.txt"), "--allow-insecure-unlock",
            "--verbosity", "3",
        ]

    def start_node(self, node: NodeInfo, wait: float = 60.0, seal: bool = True) -> None:
        """Starts ``node`` from its data directory (detached: it outlives this process), waits for its RPC and, with
        ``seal``, for a peer, then lets it seal. A sealer that started sealing before seeing its peers would seal its
        own branch from the last block it knows (at genesis, every sealer its own block 1)."""
        if self.is_running(node):
            return
        self._spawn(node, wait)
        if seal:
            if any(n is not node and self.is_running(n) for n in self.nodes):
                self.wait_for_peers()
            self.start_sealing([node])

    def start_sealing(self, nodes: Sequence[NodeInfo], sync_wait: float = 20.0) -> None:
        """Lets ``nodes`` seal one at a time, each once it holds the chain the running nodes have.

        geth discards blocks its peers propagate until it has synced once or seals itself, so sealers started
        together on a new chain would each seal their own block 1 (and then all refuse block 2). Here each node
        first catches up with the highest head, starts sealing, and the next waits for the block it seals."""
        for node in nodes:
            others = [n for n in self.nodes if n is not node and self.is_running(n)]
            best = max(others, key=_head, default=None)
            target = _head(best) if best is not None else 0
            if best is not None and _head(node) < target:
                self.copy_blocks(best, node, _head(node) + 1, target)
                deadline = time.monotonic() + sync_wait
                while _head(node) < target and time.monotonic() < deadline:
                    time.sleep(0.2)
            self.seal(node)
            deadline = time.monotonic() + 3 * self.period + 1
            while max(_head(n) for n in self.nodes if self.is_running(n)) <= target and time.monotonic() < deadline:
                time.sleep(0.1)

    def copy_blocks(self, source: NodeInfo, target: NodeInfo, first: int, last: int) -> None:
        """Hands blocks ``first..last`` of ``source``'s chain to ``target`` (``admin_exportChain`` /
        ``admin_importChain`` through both IPC sockets: nodes on one machine). geth would take them by sync only
        once a peer announces a heavier chain than its own, which a halted or just-started Clique chain does not."""
        path = self.datadir(target) / "import.rlp"
        try:
            for node, method, params in ((source, "admin_exportChain", [str(path), max(first, 1), last]),
                                         (target, "admin_importChain", [str(path)])):
                response = self.ipc(node).provider.make_request(method, params)  # type: ignore[arg-type]
                if "error" in response:
                    raise NetworkError(f"{method} on {node.name}: {response['error']['message']}")
        finally:
            path.unlink(missing_ok=True)

    def reconnect(self, node: NodeInfo, peer: NodeInfo) -> None:
        """Drops and re-adds ``peer`` on ``node`` (through IPC)."""
        w3 = self.ipc(node)
        for method in ("admin_removePeer", "admin_addPeer"):
            w3.provider.make_request(method, [peer.enode])  # type: ignore[arg-type]

    def seal(self, node: NodeInfo, wait: float = 60.0) -> None:
        """Starts sealing on ``node`` once geth has unlocked its sealing key (it decrypts the keystore after
        start-up; sealing before that fails for the block at hand). geth itself waits until its sync is done."""
        w3 = self.ipc(node)
        deadline = time.monotonic() + wait
        while "error" in w3.provider.make_request("eth_sign", [node.signer, "0x00"]):  # type: ignore[arg-type]
            if time.monotonic() > deadline:
                raise NetworkError(f"{node.name} did not unlock its sealing key within {wait:.0f}s: see "
                                   f"{self.log_path(node)}")
            time.sleep(0.2)
        response = w3.provider.make_request("miner_start", [])  # type: ignore[arg-type]
        if "error" in response:
            raise NetworkError(f"miner_start on {node.name}: {response['error']['message']}")

    def _spawn(self, node: NodeInfo, wait: float) -> None:
        for port in (node.http_port, node.p2p_port, node.authrpc_port):
            if not _port_free(port):
                raise NetworkError(f"port {port} of {node.name} is in use by another process")
        if not (self.datadir(node) / "geth" / "chaindata").is_dir():
            self.init_chain(node)  # a restored node without its chain data: it syncs from its peers
        log = self.log_path(node).open("ab")
        try:
            proc = subprocess.Popen(self.command(node), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    start_new_session=True)
        finally:
            log.close()
        node.pid = proc.pid
        self.save()
        w3 = node_web3(node.url, timeout=2)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise NetworkError(f"{node.name} exited with code {proc.returncode}: see {self.log_path(node)}\n"
                                   + _tail(self.log_path(node)))
            try:
                w3.eth.block_number
                return
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.2)
        raise NetworkError(f"{node.name} did not answer on {node.url} within {wait:.0f}s: see {self.log_path(node)}")

    def init_chain(self, node: NodeInfo) -> None:
        """Writes the genesis block into the node's (empty) chain database."""
        result = subprocess.run([str(geth_binary()), "--datadir", str(self.datadir(node)), "init",
                                 str(self.directory / "genesis.json")], capture_output=True, text=True)
        if result.returncode != 0:
            raise NetworkError(f"geth init of {node.name} failed: {result.stderr.strip()[-2000:]}")

    def stop_node(self, node: NodeInfo, sig: int = signal.SIGTERM, wait: float = 30.0) -> None:
        """Stops ``node`` by its recorded PID (SIGTERM lets geth flush its state; tests also use SIGKILL)."""
        if self.is_running(node):
            assert node.pid is not None
            os.kill(node.pid, sig)
            deadline = time.monotonic() + wait
            while self.is_running(node) and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.is_running(node):
                os.kill(node.pid, signal.SIGKILL)
                while self.is_running(node):
                    time.sleep(0.1)
            _reap(node.pid)
        node.pid = None
        self.save()

    def up(self) -> None:
        """Starts every node that is not running, lets them peer, then lets them seal; starts the watchdog."""
        started = [n for n in self.nodes if not self.is_running(n)]
        for node in started:
            self.start_node(node, seal=False)
        self.wait_for_peers()
        self.start_sealing(started)
        self.start_watchdog()

    def down(self) -> None:
        self.stop_watchdog()
        for node in self.nodes:
            self.stop_node(node)

    def wait_for_peers(self, timeout: float = 30.0) -> None:
        """Waits until every running node sees every other running node."""
        running = [n for n in self.nodes if self.is_running(n)]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(_peer_count(n) >= len(running) - 1 for n in running):
                return
            time.sleep(0.2)
        raise NetworkError(f"nodes did not all peer within {timeout:.0f}s")

    # ---- governance of the validator set ------------------------------------------------------------------------
    def ipc(self, node: NodeInfo) -> Web3:
        """The node's operator connection (IPC): ``clique`` and ``admin`` APIs, not exposed over HTTP."""
        path = self.ipc_path(node)
        if not path.exists():
            raise NetworkError(f"{node.name} is not running (no IPC socket at {path})")
        from web3.middleware import ExtraDataToPOAMiddleware

        w3 = Web3(Web3.IPCProvider(str(path), timeout=10))
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        return w3

    def clique(self, node: NodeInfo, method: str, params: Sequence[Any] = ()) -> Any:
        response = self.ipc(node).provider.make_request(f"clique_{method}", list(params))  # type: ignore[arg-type]
        if "error" in response:
            raise NetworkError(f"clique_{method} on {node.name}: {response['error']['message']}")
        return response["result"]

    def signers(self, node: NodeInfo | None = None) -> list[str]:
        """The current sealers, as the chain (the given or first running node) sees them."""
        node = node or self.running_node()
        return [Web3.to_checksum_address(a) for a in self.clique(node, "getSigners")]

    def vote(self, node: NodeInfo, address: str, authorize: bool) -> None:
        """``node``'s sealer votes to add (``authorize``) or remove ``address``; Clique applies the change once more
        than half of the current sealers have voted the same way in blocks they sealed."""
        self.clique(node, "propose", [Web3.to_checksum_address(address), authorize])

    def discard(self, node: NodeInfo, address: str) -> None:
        self.clique(node, "discard", [Web3.to_checksum_address(address)])

    def proposals(self, node: NodeInfo) -> dict[str, bool]:
        return {Web3.to_checksum_address(a): bool(v) for a, v in self.clique(node, "proposals").items()}

    def running_node(self) -> NodeInfo:
        for n in self.nodes:
            if self.is_running(n):
                return n
        raise NetworkError(f"no node of {self.directory} is running: run `bledger network up --dir {self.directory}`")


@dataclass
class NodeStatus:
    name: str
    url: str
    signer: str
    running: bool
    head: int | None = None
    head_hash: str | None = None
    peers: int | None = None
    sealer: bool | None = None  # whether its signer is in the current validator set
    last_sealed_by_it: int | None = None
    error: str | None = None


def status(network: Network) -> list[NodeStatus]:
    """Each node's head, peers and signer (and whether that signer is currently a validator)."""
    out: list[NodeStatus] = []
    for node in network.nodes:
        st = NodeStatus(node.name, node.url, node.signer, network.is_running(node))
        if st.running:
            try:
                w3 = node_web3(node.url, timeout=3)
                block = w3.eth.get_block("latest")
                st.head, st.head_hash = int(block["number"]), "0x" + bytes(block["hash"]).hex()
                st.peers = int(w3.net.peer_count)
                st.sealer = Web3.to_checksum_address(node.signer) in network.signers(node)
            except Exception as exc:  # noqa: BLE001 - a node that does not answer is reported, not fatal
                st.error = str(exc) or type(exc).__name__
        out.append(st)
    return out


# ---- creation ---------------------------------------------------------------------------------------------------
def create(directory: Path, validators: int = 3, period: int = DEFAULT_PERIOD, fund: Iterable[str] | None = None,
           base_port: int | None = None, chain_id: int = CHAIN_ID) -> Network:
    """Creates keys, a Clique genesis with ``validators`` sealers and one initialised data directory per node.

    ``fund``: addresses credited in the genesis (default: the public dev accounts, so ``bledger demo`` and ``dev:N``
    keys work; a production network passes the ministries' and the portal's addresses). ``base_port``: node i
    (from 0) listens on HTTP ``base_port + i``, p2p ``base_port + 100 + i``, engine API ``base_port + 200 + i``
    (loopback only); default: free ports.
    """
    if validators < 3:
        raise NetworkError(f"a network needs at least 3 validators (so that one can fail), {validators} asked")
    if period < 1:
        raise NetworkError("the Clique period must be at least 1 second")
    if (directory / NETWORK_FILE).exists():
        raise NetworkError(f"{directory} already holds a network")
    geth_binary()  # fails early, before any file is written, when geth is missing
    directory.mkdir(parents=True, exist_ok=True)
    funded = [str(Web3.to_checksum_address(a)) for a in fund] if fund is not None else [
        str(a.address) for a in dev_accounts(30)]
    ports = _ports(validators, base_port)
    sealers: list[tuple[str, bytes, bytes]] = []  # (address, sealing key, node key)
    for _ in range(validators):
        sealer = Account.create()
        sealers.append((sealer.address, bytes(sealer.key), secrets.token_bytes(32)))
    nodes = []
    for i, (address, _, nodekey) in enumerate(sealers):
        pub = keys.PrivateKey(nodekey).public_key.to_hex()[2:]
        http, p2p, authrpc = ports[i]
        nodes.append(NodeInfo(f"node{i + 1}", address, http, p2p, authrpc, f"enode://{pub}@127.0.0.1:{p2p}"))
    net = Network(directory.resolve(), chain_id, period, nodes, funded)
    genesis = clique_genesis(chain_id, period, [a for a, _, _ in sealers], funded)
    (directory / "genesis.json").write_text(json.dumps(genesis, indent=2) + "\n")
    for node, (_, key, nodekey) in zip(nodes, sealers, strict=True):
        d = net.datadir(node)
        (d / "geth").mkdir(parents=True)
        d.chmod(0o700)
        password = secrets.token_hex(16)
        _write_private(d / "password.txt", password + "\n")
        (d / "keystore").mkdir()
        _write_private(d / "keystore" / f"sealer-{node.signer.lower()}.json",
                       json.dumps(Account.encrypt(key, password)))
        _write_private(d / "geth" / "nodekey", nodekey.hex())
        peers = [n.enode for n in nodes if n is not node]
        (d / "config.toml").write_text("[Node.P2P]\nStaticNodes = [" + ", ".join(json.dumps(p) for p in peers)
                                       + "]\nTrustedNodes = [" + ", ".join(json.dumps(p) for p in peers) + "]\n")
        net.init_chain(node)
    net.save()
    return net


def clique_genesis(chain_id: int, period: int, sealers: Sequence[str], funded: Sequence[str]) -> dict[str, Any]:
    """A Clique genesis with every fork through London at block 0 (the contracts target paris: no Shanghai)."""
    signers = "".join(Web3.to_checksum_address(a)[2:].lower() for a in sorted(sealers, key=lambda a: a.lower()))
    forks = ("homestead", "eip150", "eip155", "eip158", "byzantium", "constantinople", "petersburg", "istanbul",
             "muirGlacier", "berlin", "london")
    return {
        "config": {"chainId": chain_id, **{f"{f}Block": 0 for f in forks},
                   "clique": {"period": period, "epoch": 30_000}},
        "difficulty": "0x1",
        "gasLimit": hex(GAS_LIMIT),
        "extradata": "0x" + "00" * 32 + signers + "00" * 65,
        "alloc": {a.lower().removeprefix("0x"): {"balance": hex(DEV_FUNDS)} for a in funded},
    }


def up(directory: Path, validators: int | None = None, period: int = DEFAULT_PERIOD,
       fund: Iterable[str] | None = None, base_port: int | None = None) -> tuple[Network, bool]:
    """Creates the network in ``directory`` unless one is there (``validators`` sealers, default 3), then starts every
    node that is not running. Returns the network and whether it was created now."""
    created = not (directory / NETWORK_FILE).exists()
    net = create(directory, validators or 3, period, fund, base_port) if created else Network.load(directory)
    if not created and validators is not None and len(net.nodes) != validators:
        raise NetworkError(f"{directory} holds a network of {len(net.nodes)} validators, not {validators}: change the "
                           "validator set with `bledger network vote`, or use another --dir")
    net.up()
    return net, created


# ---- helpers ----------------------------------------------------------------------------------------------------
def node_web3(url: str, timeout: float = 5.0) -> Web3:
    """A plain connection to one node (no failover), able to read Clique headers (65-byte seal in extraData)."""
    from web3.middleware import ExtraDataToPOAMiddleware

    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None))
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as geth binds: a closed port in TIME_WAIT is free
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports(count: int, base: int | None) -> list[tuple[int, int, int]]:
    if base is not None:
        ports = [(base + i, base + 100 + i, base + 200 + i) for i in range(count)]
        busy = [p for trio in ports for p in trio if not _port_free(p)]
        if busy:
            raise NetworkError(f"ports in use: {', '.join(map(str, busy))}")
        return ports
    chosen: set[int] = set()
    holders = []
    for _ in range(3 * count):  # hold every socket until all are chosen, so no port is handed out twice
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        holders.append(s)
        chosen.add(int(s.getsockname()[1]))
    for s in holders:
        s.close()
    flat = sorted(chosen)
    return [(flat[i], flat[count + i], flat[2 * count + i]) for i in range(count)]


def _peer_count(node: NodeInfo) -> int:
    try:
        return int(node_web3(node.url, timeout=2).net.peer_count)
    except Exception:  # noqa: BLE001 - a node that does not answer has no peers we can see
        return -1


def _alive(pid: int | None, *marks: str) -> bool:
    """Whether ``pid`` is a live (not zombie) process whose command line holds every mark (no recycled PID)."""
    if pid is None:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z" and all(m.encode() in cmdline for m in marks)


def _head(node: NodeInfo) -> int:
    try:
        return int(node_web3(node.url, timeout=2).eth.block_number)
    except Exception:  # noqa: BLE001 - a node that does not answer has no head we can use
        return -1


def _reap(pid: int) -> None:
    """Collects the exit status when the node was started by this process (no zombie left behind)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
