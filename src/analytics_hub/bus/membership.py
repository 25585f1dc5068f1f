"""Who is in a worker group right now: the live members, as every member sees them.

Workers that split work between them by key (the analytics workers' series) need to
agree on the group. ``NatsMembership`` keeps one entry per live member in a JetStream
key-value bucket whose entries expire: a member rewrites its entry every ``heartbeat``
seconds, so one that died drops out after ``ttl``; one that stops deletes its entry at
once. ``SoleMember`` is the group of one, for the embedded hub.

Members read the list on their own heartbeat, so for up to one heartbeat after a change
two members may both own, or neither own, a moved key: work keyed this way must tolerate
a short overlap (anomaly records have deterministic ids, so a double write is one row).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import socket
import threading
from collections.abc import Sequence
from typing import Protocol

import nats
import nats.js.errors
import structlog
from nats.aio.client import Client
from nats.js.api import KeyValueConfig, StorageType
from nats.js.kv import KeyValue

from analytics_hub.bus.loopthread import LoopThread, spawn

log = structlog.get_logger(__name__)


class Membership(Protocol):
    """The live members of one worker group, this process included."""

    @property
    def member_id(self) -> str:
        """This process's id in the group."""
        ...

    def start(self) -> None:
        """Join the group (announce this member)."""
        ...

    def members(self) -> list[str]:
        """The live members' ids, sorted; always includes this one."""
        ...

    def close(self) -> None:
        """Leave the group."""
        ...


def new_member_id() -> str:
    """A unique, readable member id: host, pid and a random suffix."""
    host = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:40]
    return f"{host}-{os.getpid()}-{secrets.token_hex(3)}"


class SoleMember:
    """A group of one: the process owns every key."""

    def __init__(self) -> None:
        self._id = new_member_id()

    @property
    def member_id(self) -> str:
        return self._id

    def start(self) -> None:
        """Nothing to announce."""

    def members(self) -> list[str]:
        return [self._id]

    def close(self) -> None:
        """Nothing to leave."""


class NatsMembership:
    """Group membership in the JetStream key-value bucket ``HUB_MEMBERS_<group>``."""

    def __init__(
        self,
        servers: str | Sequence[str],
        group: str,
        *,
        heartbeat: float = 3.0,
        ttl: float = 10.0,
        replicas: int = 1,
    ) -> None:
        self._servers = [servers] if isinstance(servers, str) else list(servers)
        self.bucket = f"HUB_MEMBERS_{group}"
        self._heartbeat = heartbeat
        self._ttl = ttl
        self._replicas = replicas
        self._id = new_member_id()
        self._members = [self._id]
        self._lock = threading.Lock()
        self._loop: LoopThread | None = None
        self._nc: Client | None = None
        self._kv: KeyValue | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def member_id(self) -> str:
        return self._id

    def start(self) -> None:
        """Connect, create the bucket if needed, announce this member, start beating."""
        self._loop = LoopThread("hub-membership")
        self._loop.call(self._start(), timeout=30.0)

    def members(self) -> list[str]:
        with self._lock:
            return list(self._members)

    def close(self) -> None:
        """Delete this member's entry (the others take over at their next beat)."""
        if self._loop is None:
            return
        try:
            self._loop.call(self._leave(), timeout=5.0)
        except Exception:  # the entry expires by itself
            log.warning("could not leave the group cleanly", bucket=self.bucket, exc_info=True)
        self._loop.stop()
        self._loop = None

    async def _start(self) -> None:
        self._nc = await nats.connect(
            servers=self._servers,
            name="analytics-hub-membership",
            connect_timeout=2,
            reconnect_time_wait=0.5,
            max_reconnect_attempts=-1,
        )
        js = self._nc.jetstream(timeout=5.0)
        config = KeyValueConfig(
            bucket=self.bucket,
            ttl=self._ttl,
            history=1,
            storage=StorageType.MEMORY,
            replicas=self._replicas,
            description="live members of a hub worker group",
        )
        try:
            self._kv = await js.key_value(self.bucket)
        except nats.js.errors.BucketNotFoundError:
            self._kv = await js.create_key_value(config)
        await self._beat()
        spawn(self._every_beat(), self._tasks)

    async def _every_beat(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat)
            try:
                await self._beat()
            except Exception:  # NATS away for a moment: keep the last list, try again
                log.warning("membership heartbeat failed", bucket=self.bucket, exc_info=True)

    async def _beat(self) -> None:
        assert self._kv is not None
        await self._kv.put(self._id, b"1")
        try:
            keys = await self._kv.keys()
        except nats.js.errors.NoKeysError:
            keys = []
        members = sorted({*keys, self._id})
        with self._lock:
            changed = members != self._members
            self._members = members
        if changed:
            log.info("worker group changed", bucket=self.bucket, members=len(members))

    async def _leave(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._kv is not None:
            await self._kv.delete(self._id)
        if self._nc is not None:
            await self._nc.close()


__all__ = ["Membership", "NatsMembership", "SoleMember", "new_member_id"]
