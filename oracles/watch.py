"""``bledger oracle watch DIR``: process measurement files as they arrive; done files move to ``DIR/done``, files
that fail validation or are refused by the contract to ``DIR/failed`` with the reason beside them."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from chain_client.errors import LedgerError
from oracles.pipeline import process_file
from oracles.signer import ReportSigner
from oracles.submitter import BatchSubmitter, SubmitReport

SUFFIXES = (".csv", ".json", ".jsonl")


def _settled(path: Path, min_age: float) -> bool:
    """A file still being written is left for the next round."""
    return time.time() - path.stat().st_mtime >= min_age


def watch(directory: Path, signer: ReportSigner, submitter: BatchSubmitter, interval: float = 2.0,
          rounds: int | None = None, min_age: float = 1.0,
          on_file: Callable[[Path, SubmitReport | Exception], None] | None = None) -> None:
    """Polls ``directory`` every ``interval`` seconds (``rounds`` of them, or until interrupted)."""
    done, failed = directory / "done", directory / "failed"
    done.mkdir(parents=True, exist_ok=True)
    failed.mkdir(parents=True, exist_ok=True)
    n = 0
    while rounds is None or n < rounds:
        n += 1
        files = sorted((p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES),
                       key=lambda p: (p.stat().st_mtime, p.name))
        for path in files:
            if not _settled(path, min_age):
                continue
            try:
                result: SubmitReport | Exception = process_file(path, signer, submitter)
                path.rename(done / path.name)
            except LedgerError as exc:
                result = exc
                path.rename(failed / path.name)
                (failed / f"{path.name}.error.txt").write_text(f"{exc}\n")
            if on_file:
                on_file(path, result)
        if rounds is None or n < rounds:
            time.sleep(interval)
