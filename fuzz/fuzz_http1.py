"""An atheris (libFuzzer) target for purecurl's HTTP/1 response parser.

Theory of operation
-------------------
`check(data)` takes the fuzzer's bytes: the first two choose the parser's flags (HEAD
request, HTTP09_ALLOWED, a reused connection, raw chunked) and a split seed, the rest is the
response. It parses the response fed whole, then fed in pieces cut at points drawn from the
seed, then one byte at a time (for short inputs), each followed by an EOF, and requires:

- nothing but `ResponseError` (the parser's own CurlError) ever escapes;
- every way of feeding gives the same events (body bytes joined, as their cut follows the
  input's) and the same error code, if any;
- an error code is a CURLcode the parser is documented to give.

Run (atheris is optional and not a test dependency; the file is outside tests/, so pytest
never collects it):

    pip install atheris
    python fuzz/fuzz_http1.py -max_total_time=60 [corpus_dir]

Without atheris, `python fuzz/fuzz_http1.py --random SECONDS` feeds random mutations of a few
seed responses through the same `check` for a bounded time.
"""

from __future__ import annotations

import random
import sys
import time
from typing import Any

from purecurl._codes import (
    E_BAD_CONTENT_ENCODING,
    E_GOT_NOTHING,
    E_PARTIAL_FILE,
    E_RECV_ERROR,
    E_TOO_LARGE,
    E_UNSUPPORTED_PROTOCOL,
    E_WEIRD_SERVER_REPLY,
)
from purecurl.proto.http1 import Body, End, Event, Head, ResponseError, ResponseParser

try:
    import atheris  # type: ignore[import-untyped, import-not-found, unused-ignore]
except ImportError:  # optional: see the module docstring
    atheris = None

KNOWN_CODES = {
    E_BAD_CONTENT_ENCODING,
    E_GOT_NOTHING,
    E_PARTIAL_FILE,
    E_RECV_ERROR,
    E_TOO_LARGE,
    E_UNSUPPORTED_PROTOCOL,
    E_WEIRD_SERVER_REPLY,
}

SEEDS = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\nT: 1\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nX-Fold: a\r\n b\r\n\r\nuntil close",
    b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
]

Outcome = tuple[list[tuple[str, Any]], int | None]


def _normalise(events: list[Event], into: list[tuple[str, Any]]) -> None:
    for event in events:
        if isinstance(event, Body):
            if into and into[-1][0] == "body":
                into[-1] = ("body", into[-1][1] + bytes(event.data))
            elif event.data:
                into.append(("body", bytes(event.data)))
        elif isinstance(event, Head):
            into.append(("head", [(name, getattr(event, name)) for name in Head.__slots__]))
        elif isinstance(event, End):
            into.append(("end", (event.trailers, event.keep_alive)))
        else:
            raise AssertionError(f"unknown event {event!r}")


def _parse(pieces: list[bytes], flags: dict[str, bool]) -> Outcome:
    """Feed `pieces` then EOF; return the normalised events and the error code (or None)."""
    parser = ResponseParser(**flags)
    seen: list[tuple[str, Any]] = []
    try:
        for piece in pieces:
            _normalise(parser.feed(piece), seen)
            if parser.done:
                break
        else:
            _normalise(parser.feed_eof(), seen)
    except ResponseError as exc:
        _normalise(exc.events, seen)
        code: int = exc.args[0]
        if code not in KNOWN_CODES:
            raise AssertionError(f"undocumented code {code}: {exc}") from exc
        return seen, code
    return seen, None


def _cuts(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    points = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, 8))) if data else []
    pieces, last = [], 0
    for point in points:
        pieces.append(data[last:point])
        last = point
    pieces.append(data[last:])
    return pieces


def check(data: bytes) -> None:
    """Parse `data` (see the module docstring) every way; raise AssertionError on a finding."""
    if len(data) < 2:
        return
    flag_byte, seed, body = data[0], data[1], data[2:]
    flags = {
        "head_request": bool(flag_byte & 1),
        "http09_allowed": bool(flag_byte & 2),
        "reused": bool(flag_byte & 4),
        "raw_chunked": bool(flag_byte & 8),
    }
    whole = _parse([body], flags)
    ways = [_cuts(body, seed)]
    if len(body) <= 512:
        ways.append([body[i : i + 1] for i in range(len(body))])
    for pieces in ways:
        other = _parse(pieces, flags)
        if other != whole:
            raise AssertionError(f"split feed differs:\n whole: {whole!r}\n split: {other!r}")


def _random_run(seconds: float) -> int:
    """Mutate the seeds at random for `seconds`; return how many inputs were checked."""
    rng = random.Random(0)
    end = time.monotonic() + seconds
    count = 0
    while time.monotonic() < end:
        data = bytearray(rng.choice(SEEDS))
        for _ in range(rng.randrange(1, 6)):
            op = rng.randrange(3)
            pos = rng.randrange(len(data) + 1)
            if op == 0 and data:
                del data[pos % len(data)]
            elif op == 1:
                data[pos:pos] = bytes([rng.choice(b"\r\n:; 0aF\x00-,")])
            else:
                data[pos:pos] = rng.choice(SEEDS)[: rng.randrange(12)]
        check(bytes([rng.randrange(16), rng.randrange(256)]) + bytes(data))
        count += 1
    return count


def main(argv: list[str]) -> int:
    if len(argv) > 2 and argv[1] == "--random":
        count = _random_run(float(argv[2]))
        print(f"checked {count} inputs, no finding")
        return 0
    if atheris is None:
        print("atheris is not installed (pip install atheris); or run with --random SECONDS")
        return 2
    atheris.instrument_all()  # coverage feedback from purecurl's (already imported) code
    atheris.Setup(argv, check)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
