"""Leases: exactly one holder of a named singleton job across workers and instances.

A lease is one row (``worker_lease``): its name, who holds it and until when. Taking
it is a single conditional UPDATE — succeed when nobody holds it, the lease has run
out, or we already hold it — so two workers asking at once cannot both win, on
SQLite and on PostgreSQL alike. The holder renews it well before it runs out; a
holder that crashes (SIGKILL, lost host) stops renewing and the lease expires, so
nothing is left locked. Instances compare against their own clocks: keep them in
sync (NTP), and keep the lease time much longer than any clock skew.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

from core.db.tables import WorkerLease

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def holder_id() -> str:
    """A name for this process that is unique across hosts and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def acquire(name: str, holder: str, seconds: float) -> bool:
    """Take or renew the lease ``name`` for ``seconds``; return whether ``holder`` has it."""
    await WorkerLease.insert(WorkerLease(name=name, holder="", expires_at=EPOCH)).on_conflict(
        target=WorkerLease.name, action="DO NOTHING"
    )
    now = dt.datetime.now(dt.UTC)
    taken = await (
        WorkerLease.update(
            {
                WorkerLease.holder: holder,
                WorkerLease.expires_at: now + dt.timedelta(seconds=seconds),
            }
        )
        .where(
            (WorkerLease.name == name)
            & ((WorkerLease.holder == holder) | (WorkerLease.expires_at < now))
        )
        .returning(WorkerLease.name)
    )
    return bool(taken)


async def release(name: str, holder: str) -> None:
    """Give the lease up at once (on a clean shutdown) if ``holder`` has it."""
    await WorkerLease.update({WorkerLease.holder: "", WorkerLease.expires_at: EPOCH}).where(
        (WorkerLease.name == name) & (WorkerLease.holder == holder)
    )


async def current(name: str) -> tuple[str, dt.datetime] | None:
    """Who holds ``name`` and until when, or None when nobody does."""
    row = await (
        WorkerLease.select(WorkerLease.holder, WorkerLease.expires_at)
        .where(WorkerLease.name == name)
        .first()
    )
    if row is None or not row["holder"] or row["expires_at"] < dt.datetime.now(dt.UTC):
        return None
    return row["holder"], row["expires_at"]


__all__ = ["acquire", "current", "holder_id", "release"]
