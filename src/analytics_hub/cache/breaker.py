"""A circuit breaker, so that a dead cache costs one timeout per interval, not one per call.

Closed, every call goes through. The first failure opens the circuit: calls are then
skipped (they answer as misses, at once) except one probe every ``retry_after`` seconds.
A probe that succeeds closes the circuit again. Transitions are reported by the return
values of :meth:`CircuitBreaker.failed` and :meth:`CircuitBreaker.succeeded`, so that the
caller logs once per outage, not once per request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    """Thread-safe; ``clock`` is monotonic seconds (replaceable in tests)."""

    def __init__(self, retry_after: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if retry_after <= 0:
            raise ValueError("retry_after must be positive")
        self._retry_after = retry_after
        self._clock = clock
        self._lock = threading.Lock()
        self._open = False
        self._reason = ""
        self._next_probe = 0.0

    @property
    def is_open(self) -> bool:
        """Whether calls are being skipped (the backend failed and has not answered since)."""
        return self._open

    @property
    def reason(self) -> str:
        """Why the circuit opened (the last failure); empty while closed."""
        return self._reason

    def allow(self) -> bool:
        """Whether to make a call now: always while closed; once per interval while open.

        A probe moves the next one a whole interval on, whatever becomes of it, so that
        a caller that never reports back cannot keep the circuit from probing.
        """
        with self._lock:
            if not self._open:
                return True
            now = self._clock()
            if now < self._next_probe:
                return False
            self._next_probe = now + self._retry_after
            return True

    def succeeded(self) -> bool:
        """Record a call that worked; ``True`` when that closed an open circuit."""
        with self._lock:
            if not self._open:
                return False
            self._open = False
            self._reason = ""
            return True

    def failed(self, reason: str) -> bool:
        """Record a call that failed; ``True`` when that opened a closed circuit."""
        with self._lock:
            opened = not self._open
            self._open = True
            self._reason = reason
            self._next_probe = self._clock() + self._retry_after
            return opened


__all__ = ["CircuitBreaker"]
