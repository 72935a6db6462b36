"""Event loops that drive a `CurlMulti` through its socket and timer callbacks.

Drivers use nothing but the pycurl API, so each also drives the real pycurl.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["finished"]


def finished(multi: Any) -> Iterator[tuple[Any, int, str]]:
    """Drain `multi.info_read()`: each ended transfer as (curl, code, message), code 0 when it
    succeeded, until no message is queued."""
    while True:
        queued, ok, failed = multi.info_read()
        for curl in ok:
            yield curl, 0, ""
        yield from failed
        if not queued:
            return
