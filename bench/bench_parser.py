"""Benchmark: purecurl's HTTP/1.1 response parser against h11.

Not a test. Run: `python bench/bench_parser.py`. Times (1) parsing 100k small keep-alive
responses that each arrive whole in one recv, and (2) a 64 MiB Content-Length body and a
64 MiB chunked body arriving in 256 KiB recvs, and prints operations per second and the
ratio ours/h11 (higher is better for us).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from purecurl.proto.http1 import Body, End, ResponseParser
from purecurl.proto.request import build_request_head

SMALL = (
    b"HTTP/1.1 200 OK\r\n"
    b"Server: nginx/1.24.0\r\n"
    b"Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: 128\r\n"
    b"Connection: keep-alive\r\n"
    b"\r\n" + b"x" * 128
)
N_SMALL = 100_000
BIG = 64 * 1024 * 1024
RECV = 256 * 1024


def best_of(fn: Callable[[], int], repeat: int = 3) -> float:
    """Best wall time of `repeat` runs of `fn` (which returns a checksum we verify)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def ours_small() -> int:
    total = 0
    for _ in range(N_SMALL):
        p = ResponseParser()
        for ev in p.feed(SMALL):
            if type(ev) is Body:
                total += len(ev.data)
            elif type(ev) is End:
                assert ev.keep_alive
    assert total == 128 * N_SMALL
    return total


def h11_small() -> int:
    import h11

    total = 0
    conn = h11.Connection(h11.CLIENT)
    req = h11.Request(method="GET", target="/", headers=[("Host", "x")])
    for _ in range(N_SMALL):
        conn.send(req)
        conn.send(h11.EndOfMessage())
        conn.receive_data(SMALL)
        while True:
            ev = conn.next_event()
            if type(ev) is h11.Data:
                total += len(ev.data)
            elif type(ev) is h11.EndOfMessage:
                break
        conn.start_next_cycle()
    assert total == 128 * N_SMALL
    return total


def big_payload(chunked: bool) -> list[bytes]:
    if chunked:
        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        piece = b"y" * 16384
        chunk = b"4000\r\n" + piece + b"\r\n"
        body = chunk * (BIG // 16384) + b"0\r\n\r\n"
    else:
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BIG
        body = b"y" * BIG
    stream = head + body
    return [stream[i : i + RECV] for i in range(0, len(stream), RECV)]


def ours_big(recvs: list[bytes]) -> int:
    total = 0
    p = ResponseParser()
    for data in recvs:
        for ev in p.feed(data):
            if type(ev) is Body:
                total += len(ev.data)
    assert total == BIG, total
    return total


def h11_big(recvs: list[bytes]) -> int:
    import h11

    total = 0
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=1 << 20)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    conn.send(h11.EndOfMessage())
    for data in recvs:
        conn.receive_data(data)
        while True:
            ev = conn.next_event()
            if ev is h11.NEED_DATA or type(ev) is h11.EndOfMessage:
                break
            if type(ev) is h11.Data:
                total += len(ev.data)
    assert total == BIG, total
    return total


def request_build() -> int:
    n = 0
    for _ in range(N_SMALL):
        n += len(build_request_head("GET", "/path?q=1", "example.com", user_agent="purecurl/0.1"))
    return n


def main() -> None:
    t_ours = best_of(ours_small)
    t_h11 = best_of(h11_small)
    print(f"small keep-alive responses x{N_SMALL}:")
    print(f"  purecurl {N_SMALL / t_ours:12,.0f} resp/s  ({t_ours * 1e6 / N_SMALL:.2f} us each)")
    print(f"  h11      {N_SMALL / t_h11:12,.0f} resp/s  ({t_h11 * 1e6 / N_SMALL:.2f} us each)")
    print(f"  ratio    {t_h11 / t_ours:.1f}x")
    for chunked in (False, True):
        recvs = big_payload(chunked)
        t_ours = best_of(lambda r=recvs: ours_big(r))  # type: ignore[misc]
        t_h11 = best_of(lambda r=recvs: h11_big(r))  # type: ignore[misc]
        kind = "chunked 16 KiB chunks" if chunked else "Content-Length"
        print(f"64 MiB body, {kind}, 256 KiB recvs:")
        print(f"  purecurl {BIG / t_ours / 2**20:10,.0f} MiB/s")
        print(f"  h11      {BIG / t_h11 / 2**20:10,.0f} MiB/s")
        print(f"  ratio    {t_h11 / t_ours:.1f}x")
    t_req = best_of(request_build)
    print(f"build_request_head x{N_SMALL}: {t_req * 1e6 / N_SMALL:.2f} us each")


if __name__ == "__main__":
    main()
