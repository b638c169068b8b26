"""Ends what a batch run started when the run itself ends, however it ends (Linux).

A local Ray (``otalign batch --backend ray`` without ``--address``) starts a tree of processes
(the GCS, the raylet, its agents, the actors); a driver killed with SIGKILL cannot stop them, and
Ray's agents outlive it for good. This small process, started beside the run, notes every
descendant of the run once a second (from /proc); when the run is gone it ends those left.
Run as ``python -m otalign_cli.reaper PID``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

POLL = 1.0  # s
GRACE = 3.0  # s between SIGTERM and SIGKILL


def _table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, start time in clock ticks) of every process."""
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[int(d.name)] = (int(fields[1]), int(fields[19]))
    return out


def descendants(root: int, table: dict[int, tuple[int, int]]) -> dict[int, int]:
    """pid -> start time of every process below ``root``."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = {}, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        out[pid] = table[pid][1]
        todo += children.get(pid, [])
    return out


def watch(parent: int) -> None:
    me = os.getpid()
    table = _table()
    if parent not in table:
        return
    born = table[parent][1]
    seen: dict[int, int] = {}
    while parent in table and table[parent][1] == born:
        seen.update(descendants(parent, table))
        time.sleep(POLL)
        table = _table()
    left = [pid for pid, start in seen.items() if pid != me and table.get(pid, (0, -1))[1] == start]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in left:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.time() + GRACE
        while sig == signal.SIGTERM and time.time() < deadline and any(Path(f"/proc/{p}").exists() for p in left):
            time.sleep(0.1)


def start_reaper() -> subprocess.Popen | None:
    """Start a reaper for this process, in its own session (a Ctrl-C to the run does not reach
    it); None where there is no /proc to read."""
    if not Path("/proc/self/stat").exists():
        return None
    return subprocess.Popen([sys.executable, "-m", "otalign_cli.reaper", str(os.getpid())],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


if __name__ == "__main__":
    watch(int(sys.argv[1]))
