"""Run by test_nats.py: fetch from a durable consumer, report, then hang until killed.

It prints the payloads it fetched (and did not acknowledge) on one line, then waits
forever: the test kills it with SIGKILL, as a writer that dies in the middle of a commit.

    python nats_crash_consumer.py SERVERS STREAM SUBJECT_PREFIX GROUP ACK_WAIT MESSAGES
"""

from __future__ import annotations

import sys
import threading

from analytics_hub.bus.nats import NatsBus, NatsTuning


def main() -> None:
    servers, stream, prefix, group, ack_wait, messages = sys.argv[1:7]
    bus = NatsBus(
        servers,
        capacity=1_000_000,
        stream=stream,
        subject_prefix=prefix,
        group=group,
        tuning=NatsTuning(ack_wait=float(ack_wait)),
    )
    bus.open()
    got: list[bytes] = []
    while len(got) < int(messages):
        got += [d.payload for d in bus.fetch(max_weight=1000, timeout=5)]
    print(" ".join(p.decode() for p in got), flush=True)
    threading.Event().wait()  # never acknowledges; killed here


if __name__ == "__main__":
    main()
