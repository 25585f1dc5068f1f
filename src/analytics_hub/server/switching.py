"""How often the interpreter lets another thread run: shortened for the ingest threads.

A server process has several busy threads: the event loop, a decoding thread, the
store writer. Each call into DuckDB, Arrow or the journal lets the interpreter lock go
and must take it back afterwards, and while another thread runs Python that takes up to
the switch interval (CPython: 5 ms). DuckDB's Python client takes the lock between the
tasks of every statement, so a trivial statement measured 0.6 ms alone and 33 ms beside
one busy thread; a store commit makes a dozen statements. A 1 ms interval let the
embedded hub take about a quarter more JSON events per second (decision 0029).
"""

from __future__ import annotations

import sys

#: the interval ``serve`` sets unless configured otherwise, in milliseconds
DEFAULT_SWITCH_INTERVAL_MS = 1.0


def set_switch_interval(milliseconds: float) -> None:
    """Let a thread waiting for the interpreter lock take it after ``milliseconds`` of
    another thread running Python; ``0`` leaves CPython's interval (5 ms)."""
    if milliseconds > 0:
        sys.setswitchinterval(milliseconds / 1000)


__all__ = ["DEFAULT_SWITCH_INTERVAL_MS", "set_switch_interval"]
