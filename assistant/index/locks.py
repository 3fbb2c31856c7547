"""Write locks of the index: one writer at a time. Embedded, a file lock (``index/.write.lock``);
on a Chroma server, a lease record that expires when its writer dies (see :mod:`.store`)."""

from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any

from ..errors import IndexLockedError

#: How long a server-mode write lease lasts without renewal (a crashed writer blocks no longer).
LEASE_SECONDS = 120.0
_LEASE_ID = "write-lock"


class WriteLock:
    """What :meth:`ChromaStore.write_lock` returns: release it when done, renew it while working."""

    def release(self) -> None:
        """Let the next writer in."""

    def renew(self) -> None:
        """Tell other writers this one is still alive (a no-op for the file lock).

        Raises:
            IndexLockedError: The lease expired and another writer took it.
        """


class _FileWriteLock(WriteLock):
    def __init__(self, lock: Any) -> None:
        self._lock = lock

    @classmethod
    def acquire(cls, path: Path, where: str, timeout: float) -> _FileWriteLock:
        from filelock import FileLock, Timeout

        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path), timeout=timeout)
        try:
            lock.acquire()
        except Timeout:
            raise IndexLockedError(
                f"Another process is writing to the index at {where} (it holds {path}). Wait for it to "
                "finish, then run the command again."
            ) from None
        return cls(lock)

    def release(self) -> None:
        self._lock.release()


class _Lease(WriteLock):
    """A writer's lease in the server: one record, added only if absent, expiring unless renewed."""

    def __init__(self, collection: Any, owner: str) -> None:
        self._collection = collection
        self.owner = owner

    @classmethod
    def acquire(cls, collection: Any, where: str, timeout: float) -> _Lease:
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        deadline = time.monotonic() + timeout
        for _ in range(1000):  # bounded: each pass either wins, clears a dead lease, or waits
            now = time.time()
            collection.add(ids=[_LEASE_ID], embeddings=[[1.0]],
                           metadatas=[{"owner": owner, "expires": now + LEASE_SECONDS}])
            holder = _lease_holder(collection)
            if holder is None:
                continue  # released between our add and our read; try again
            if holder["owner"] == owner:
                return cls(collection, owner)
            if float(holder["expires"]) < now:
                # A writer that died without releasing: remove its lease, and only its lease.
                collection.delete(ids=[_LEASE_ID], where={"owner": holder["owner"]})
                continue
            if time.monotonic() >= deadline:
                left = float(holder["expires"]) - now
                raise IndexLockedError(
                    f"Another process ({holder['owner']}) is writing to the index at {where}. Wait for it "
                    f"to finish, then run the command again (its lease expires in {left:.0f}s if it died)."
                )
            time.sleep(0.2)
        raise IndexLockedError(f"Could not take the write lease on {where}; run the command again.")

    def renew(self) -> None:
        holder = _lease_holder(self._collection)
        if holder is None or holder["owner"] != self.owner:
            raise IndexLockedError(
                "This writer's lease on the index expired and another process took it; its changes "
                "so far are repaired at the next start. Run the command again."
            )
        self._collection.update(ids=[_LEASE_ID], metadatas=[{"owner": self.owner,
                                                             "expires": time.time() + LEASE_SECONDS}])

    def release(self) -> None:
        self._collection.delete(ids=[_LEASE_ID], where={"owner": self.owner})


def _lease_holder(collection: Any) -> dict[str, Any] | None:
    got = collection.get(ids=[_LEASE_ID], include=["metadatas"])
    return dict(got["metadatas"][0]) if got["ids"] else None
