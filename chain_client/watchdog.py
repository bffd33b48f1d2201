"""Breaks Clique's fork deadlock (``bledger network heal``, and the watchdog process ``network up`` starts).

Clique lets a sealer seal at most one of any floor(N/2)+1 consecutive blocks. When the in-turn sealer of a height is
down, the others seal that height out of turn after a random delay of up to a second; two of them may seal competing
blocks of equal difficulty before seeing each other's. Each node then keeps its own block (equal weight, coin flip)
and, having signed the last block of its own branch, refuses to seal the next one: with 3 sealers and one down,
that stops the chain for good although a majority is up (a known Clique liveness flaw; the in-turn sealer coming
back would settle it). The remedy is an operator's: make one of the two nodes drop its block and take the other's.

:func:`heal` does that when the running nodes agree on no head, no head moved for a while and a majority of the
sealers runs: every node at the top height whose head is not the keeper's (the lowest hash, so that everyone picks
the same) stops sealing, rewinds one block (``debug_setHead``), takes the keeper's block (exported from the keeper's
IPC, or by reconnecting to it so that geth syncs), and
resumes sealing. Nothing signed is lost: transactions of the dropped block return to the pools, and clients
re-broadcast until their acts are final (which is why an act counts only after K confirmations).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from chain_client.network import Network, NetworkError, NodeInfo


def _rpc(net: Network, node: NodeInfo, method: str, params: list[Any] | None = None) -> Any:
    response = net.ipc(node).provider.make_request(method, params or [])  # type: ignore[arg-type]
    if "error" in response:
        raise NetworkError(f"{method} on {node.name}: {response['error']['message']}")
    return response["result"]


def heads(net: Network) -> dict[str, tuple[int, str]]:
    """Head (number, hash) of every running node that answers on IPC."""
    out = {}
    for node in net.nodes:
        if net.is_running(node):
            try:
                block = _rpc(net, node, "eth_getBlockByNumber", ["latest", False])
                out[node.name] = (int(block["number"], 16), str(block["hash"]))
            except (NetworkError, OSError):
                continue
    return out


def heal(net: Network, timeout: float = 30.0) -> list[str]:
    """Settles a fork among the running nodes (see the module documentation); returns the nodes it rewound."""
    current = heads(net)
    if len(set(current.values())) <= 1:
        return []
    running = [n for n in net.nodes if n.name in current]
    sealers = len(net.signers(running[0]))
    if len(running) * 2 <= sealers:
        return []  # a majority is down: a real halt, which only bringing sealers back ends
    top = max(number for number, _ in current.values())
    keeper = min((n for n in running if current[n.name][0] == top), key=lambda n: current[n.name][1])
    keep_hash = current[keeper.name][1]
    losers = [n for n in running if current[n.name][0] == top and current[n.name][1] != keep_hash]
    try:
        for node in losers:
            _rpc(net, node, "miner_stop")
            _rpc(net, node, "debug_setHead", [hex(top - 1)])
        for node in losers:
            try:
                net.copy_blocks(keeper, node, top, top)  # the keeper's block, now heavier than the rewound head
            except NetworkError:
                net.reconnect(node, keeper)  # no IPC to the keeper: a fresh handshake tells its head, a sync starts
        deadline = time.monotonic() + timeout
        waiting = list(losers)
        while waiting and time.monotonic() < deadline:
            waiting = [n for n in waiting
                       if (_rpc(net, n, "eth_getBlockByNumber", [hex(top), False]) or {}).get("hash") != keep_hash]
            time.sleep(0.2)
    finally:
        for node in losers:
            _rpc(net, node, "miner_start")
    healed = [n.name for n in losers]
    return healed


def watch(directory: Path, stall: float | None = None, interval: float = 1.0) -> None:
    """Heals whenever no head moved for ``stall`` seconds (default: three periods and two seconds)."""
    last: dict[str, tuple[int, str]] = {}
    moved = seen_running = time.monotonic()
    while True:
        if not (directory / "network.json").is_file() or time.monotonic() - seen_running > 120:
            return  # the network was removed, or none of its nodes ran for two minutes
        try:
            net = Network.load(directory)
            if any(net.is_running(n) for n in net.nodes):
                seen_running = time.monotonic()
            limit = stall if stall is not None else 3 * net.period + 2
            now_heads = heads(net)
            if now_heads != last:
                last, moved = now_heads, time.monotonic()
            elif now_heads and time.monotonic() - moved > limit:
                healed = heal(net)
                if healed:
                    print(f"{time.strftime('%H:%M:%S')} fork at {max(h for h, _ in now_heads.values())}: rewound "
                          f"{', '.join(healed)} onto the other branch", flush=True)
                moved = time.monotonic()
        except (NetworkError, OSError) as exc:
            print(f"{time.strftime('%H:%M:%S')} {exc}", flush=True)
        time.sleep(interval)


if __name__ == "__main__":
    watch(Path(sys.argv[1]))
