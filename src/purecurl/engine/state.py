"""Transfer states and the table of allowed moves.

Theory of operation: as in libcurl's multi.c, each transfer has exactly one state, and every
change goes through `move()`, which checks the move against `ALLOWED` and, when the transfer is
verbose, logs it. A move that is not in the table is a bug in the engine, not a user error, so
it raises `AssertionError`-like `RuntimeError` at once instead of corrupting bookkeeping.

    INIT -> PENDING -> RESOLVING -> CONNECTING -> PERFORMING -> DONE -> COMPLETED -> MSGSENT
              (queued for a        (threaded      (happy       (request out,
               connection slot)     DNS)           eyeballs)    response in)

PERFORMING may go back to CONNECTING (a reused connection died before any response byte:
libcurl's transparent retry), and INIT may go straight to PERFORMING (an idle pooled connection
was found). Any live state may go to DONE (failure or removal).
"""

from __future__ import annotations

INIT = 0
PENDING = 1
RESOLVING = 2
CONNECTING = 3
PERFORMING = 4
DONE = 5
COMPLETED = 6
MSGSENT = 7

NAMES = ("INIT", "PENDING", "RESOLVING", "CONNECTING", "PERFORMING", "DONE", "COMPLETED", "MSGSENT")

# from-state -> frozenset of to-states
ALLOWED: tuple[frozenset[int], ...] = (
    frozenset({PENDING, RESOLVING, CONNECTING, PERFORMING, DONE}),  # INIT
    frozenset({RESOLVING, CONNECTING, PERFORMING, DONE}),  # PENDING
    frozenset({CONNECTING, DONE, PENDING}),  # RESOLVING
    frozenset({PERFORMING, DONE, RESOLVING}),  # CONNECTING
    frozenset({DONE, CONNECTING, RESOLVING, PENDING, PERFORMING}),  # PERFORMING
    frozenset({COMPLETED}),  # DONE
    frozenset({MSGSENT}),  # COMPLETED
    frozenset(),  # MSGSENT
)

LIVE = frozenset({INIT, PENDING, RESOLVING, CONNECTING, PERFORMING})


class StateError(RuntimeError):
    """An engine bug: a state move that the table does not allow."""


def check_move(old: int, new: int) -> None:
    """Raise StateError when `old -> new` is not an allowed move."""
    if new not in ALLOWED[old]:
        raise StateError(f"transfer state {NAMES[old]} -> {NAMES[new]} is not allowed")
