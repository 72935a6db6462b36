"""Per-socket interest: who wants to read or write which fd, and what was announced.

Theory of operation (libcurl's multi_ev.c, SEMANTICS rules 8-12): each owner of interest (a
transfer, or the resolver's wake-up socket) reports its whole pollset, a tuple of `(fd, mask)`
pairs with mask POLL_IN=1 / POLL_OUT=2. The table diffs it against the owner's previous
pollset, keeps per fd the number of owners that want to read and to write, and collects the fds
whose combined mask now differs from the last one announced. `flush()` hands those changes to
the announce function (the socket callback): POLL_IN/OUT/INOUT for a new or changed mask,
POLL_REMOVE when nobody wants the fd any more. An fd that was never announced is never removed.

The socketp of `assign()` lives in the fd's entry, so it is handed back on every call for that
fd and forgotten with POLL_REMOVE.

`forget(fd)` is for closing: it announces POLL_REMOVE (if the fd was announced) before the
caller closes the socket, so an application never unwatches an fd number that the OS already
gave to a new socket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

POLL_IN = 1
POLL_OUT = 2
POLL_INOUT = 3
POLL_REMOVE = 4

Pollset = tuple[tuple[int, int], ...]
NO_POLL: Pollset = ()


class HasPollset(Protocol):
    pollset: Pollset


class SockEntry:
    """Interest in one fd."""

    __slots__ = ("announced", "fd", "readers", "socketp", "writers")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.readers = 0
        self.writers = 0
        self.announced = 0
        self.socketp: Any = None

    def __repr__(self) -> str:
        return f"<fd {self.fd} r={self.readers} w={self.writers} announced={self.announced}>"


Announce = Callable[[int, int, SockEntry], None]


class SocketTable:
    """The interest table of one multi."""

    __slots__ = ("_dirty", "announce", "entries")

    def __init__(self, announce: Announce) -> None:
        self.entries: dict[int, SockEntry] = {}
        self._dirty: list[SockEntry] = []
        self.announce = announce

    def __repr__(self) -> str:
        return f"<SocketTable {sorted(self.entries.values(), key=lambda e: e.fd)}>"

    def update(self, owner: HasPollset, new: Pollset) -> None:
        """Replace `owner`'s pollset with `new`; changed fds are announced at the next flush."""
        old = owner.pollset
        if old == new:
            return
        owner.pollset = new
        entries = self.entries
        dirty = self._dirty
        for fd, mask in old:
            e = entries.get(fd)
            if e is None:  # forgotten (closed) while still listed: nothing to undo
                continue
            if mask & POLL_IN:
                e.readers -= 1
            if mask & POLL_OUT:
                e.writers -= 1
            dirty.append(e)
        for fd, mask in new:
            e = entries.get(fd)
            if e is None:
                e = entries[fd] = SockEntry(fd)
            if mask & POLL_IN:
                e.readers += 1
            if mask & POLL_OUT:
                e.writers += 1
            dirty.append(e)

    def flush(self) -> None:
        """Announce every fd whose combined interest differs from what was last announced."""
        dirty = self._dirty
        if not dirty:
            return
        entries = self.entries
        announce = self.announce
        while dirty:
            e = dirty.pop()
            mask = (POLL_IN if e.readers else 0) | (POLL_OUT if e.writers else 0)
            if mask == e.announced:
                if not mask and entries.get(e.fd) is e and not e.announced:
                    del entries[e.fd]
                continue
            if mask:
                e.announced = mask
                announce(e.fd, mask, e)
            else:
                e.announced = 0
                # assign() must still find the fd from inside the REMOVE call (rule 11).
                announce(e.fd, POLL_REMOVE, e)
                if entries.get(e.fd) is e and not (e.readers or e.writers):
                    del entries[e.fd]
                    e.socketp = None

    def forget(self, fd: int) -> None:
        """The fd is about to be closed: announce POLL_REMOVE now if it was announced.

        Owners must already have dropped the fd from their pollsets (or be dropping it: any
        remaining counts are discarded with the entry).
        """
        self.flush()
        e = self.entries.get(fd)
        if e is None:
            return
        e.readers = e.writers = 0
        if e.announced:
            e.announced = 0
            self.announce(fd, POLL_REMOVE, e)
        if self.entries.get(fd) is e:
            del self.entries[fd]
        e.socketp = None

    def watched(self) -> list[SockEntry]:
        """Entries currently announced (what an application watches)."""
        return [e for e in self.entries.values() if e.announced]

    def recheck_all(self) -> None:
        """Queue every fd for re-announcement checks (socket_all)."""
        self._dirty.extend(self.entries.values())

    def assign(self, fd: int, obj: Any) -> bool:
        """Set the socketp of a known fd; False when the fd is unknown (BAD_SOCKET)."""
        e = self.entries.get(fd)
        if e is None:
            return False
        e.socketp = obj
        return True
