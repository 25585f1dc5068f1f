"""Where an embedded hub's time went during a load window: its writer and its CPU.

Two readings of the server (its ``/metrics`` and its CPU time from ``/proc``) and of the
machine (``/proc/stat``), one after the load has started and one before it ends; the
difference says how much of the window the store writer spent committing, how fast it
committed while it did, how much of the window ingest was held for the store's
housekeeping, and how many cores the
server and the whole machine used. The ingest benchmarks print it beside their figures,
so that a run says whether the store, the CPU or neither was the bound.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

_METRICS = (
    "hub_store_commit_seconds_sum",
    "hub_store_commit_events_sum",
    "hub_store_commit_events_count",
    "hub_store_housekeeping_seconds_sum",
)


@dataclass(frozen=True, slots=True)
class Reading:
    """One look at a server process and the machine."""

    at: float
    metrics: dict[str, float]
    server_cpu_s: float
    machine_busy_s: float
    machine_total_s: float


def _metrics(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics", timeout=10.0).text
    out = dict.fromkeys(_METRICS, 0.0)
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in out:
            out[name] += float(value)
    return out


def _process_cpu_s(pid: int, *, with_children: bool = False) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime, stime; then cutime, cstime: the reaped children's
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live descendants (a hub's OTLP preparing processes, their fork
    server): the server's CPU and memory are theirs together."""
    tree, i = [pid], 0
    while i < len(tree):
        for task in Path(f"/proc/{tree[i]}/task").glob("*/children"):
            try:
                tree.extend(int(child) for child in task.read_text().split())
            except OSError:  # gone meanwhile
                continue
        i += 1
    return tree


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of ``pid`` and of its live descendants."""
    total = 0.0
    for member in process_tree(pid):
        try:
            total += _process_cpu_s(member)
        except OSError:  # gone meanwhile
            continue
    return total


def _machine_s() -> tuple[float, float]:
    ticks = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


def _busy_fraction(first: Reading | CpuReading, last: Reading | CpuReading) -> float | None:
    """How busy the whole machine was between two readings (all cores, 0 to 1)."""
    total = last.machine_total_s - first.machine_total_s
    return round((last.machine_busy_s - first.machine_busy_s) / total, 3) if total else None


def read(url: str, pid: int) -> Reading:
    """Read the server at ``url`` (process ``pid``) and the machine now."""
    busy, total = _machine_s()
    return Reading(time.monotonic(), _metrics(url), tree_cpu_s(pid), busy, total)


def summary(first: Reading, last: Reading) -> dict[str, float | None]:
    """The window between two readings, as benchmark JSON fields."""
    window = last.at - first.at
    delta = {k: last.metrics[k] - first.metrics[k] for k in _METRICS}
    commit_s = delta["hub_store_commit_seconds_sum"]
    housekeeping_s = delta["hub_store_housekeeping_seconds_sum"]
    events = delta["hub_store_commit_events_sum"]
    commits = delta["hub_store_commit_events_count"]
    return {
        "window_s": round(window, 1),
        # The two overlap a little: housekeeping commits the backlog before the fold.
        "writer_committing_fraction": round(commit_s / window, 3),
        "writer_commit_events_per_s": (round(events / commit_s) if commit_s else None),
        # A commit's fixed cost (statements, lock hand-offs) is shared by its events.
        "writer_events_per_commit": round(events / commits) if commits else None,
        "housekeeping_fraction": round(housekeeping_s / window, 3),
        "server_cpu_cores": round((last.server_cpu_s - first.server_cpu_s) / window, 2),
        # The server's CPU per event it committed in the window: what a target rate
        # would cost in cores, whatever the rate reached.
        "server_cpu_us_per_event": (
            round((last.server_cpu_s - first.server_cpu_s) * 1e6 / events, 1) if events else None
        ),
        "machine_busy_fraction": _busy_fraction(first, last),
    }


def _comm_cpu_s(comm: str) -> float:
    """CPU seconds of every live process named ``comm`` (``postgres``, ``nats-server``)
    and of the children they reaped: a PostgreSQL backend that ends (a connection closed)
    leaves its CPU time with the postmaster, so the sum does not drop when it goes."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == comm:
                total += _process_cpu_s(int(entry.name), with_children=True)
        except OSError:  # gone meanwhile
            continue
    return total


@dataclass(frozen=True, slots=True)
class CpuReading:
    """CPU seconds of groups of processes, and of the machine, at one moment."""

    at: float
    groups: dict[str, float]
    machine_busy_s: float
    machine_total_s: float


def read_cpu(pids: dict[str, list[int]], comms: dict[str, str]) -> CpuReading:
    """CPU seconds of each group: ``pids`` by process id, ``comms`` by process name."""
    groups = {}
    for name, ids in pids.items():
        seconds = 0.0
        for pid in ids:
            try:
                seconds += _process_cpu_s(pid)
            except OSError:
                continue
        groups[name] = seconds
    groups.update((name, _comm_cpu_s(comm)) for name, comm in comms.items())
    busy, total = _machine_s()
    return CpuReading(time.monotonic(), groups, busy, total)


def cpu_summary(first: CpuReading, last: CpuReading) -> dict[str, object]:
    """Cores each group used between two readings, and how busy the machine was."""
    window = last.at - first.at
    return {
        "window_s": round(window, 1),
        "cores": {
            name: round((last.groups[name] - first.groups[name]) / window, 2)
            for name in first.groups
        },
        "machine_busy_fraction": _busy_fraction(first, last),
    }


class Watch:
    """Reads a server 3 s into a load of ``seconds`` and 2 s before its end, from a thread
    of its own (the benchmark's main thread waits for its clients meanwhile)."""

    def __init__(self, url: str, pid: int, seconds: float) -> None:
        self._readings: list[Reading] = []
        began = time.monotonic()

        def run() -> None:
            for at in (began + min(3.0, seconds / 4), began + max(seconds - 2.0, seconds / 2)):
                time.sleep(max(0.0, at - time.monotonic()))
                try:
                    self._readings.append(read(url, pid))
                except (OSError, httpx.HTTPError):  # the server is gone: no summary
                    return

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def summary(self) -> dict[str, float | None] | None:
        """The window's summary, or None when a reading could not be taken."""
        self._thread.join(10.0)
        return summary(*self._readings) if len(self._readings) == 2 else None
