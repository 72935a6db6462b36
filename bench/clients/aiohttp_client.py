"""aiohttp client, on asyncio's default loop or on uvloop.

    python -m bench.clients.aiohttp_client SPEC_JSON [uvloop]

`concurrency` worker tasks share one ClientSession (one TCPConnector, limit = concurrency) and
take requests from a shared counter until none remain: the usual way to bound concurrency in
asyncio code. A keep-alive scenario reads each body with `read()`; the big-download scenario
(`spec.stream`) drops it chunk by chunk with `iter_chunked`, as a WRITEFUNCTION does. A new
connection per request is `force_close=True` plus "Connection: close". aiohttp has no HTTP/2
client, so HTTP/2 scenarios are reported unavailable.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from bench.clients.common import Result, Spec, main, run_workers, timed_batches

_CHUNK = 256 * 1024


async def _session(spec: Spec) -> Any:
    import aiohttp

    ssl_ctx: ssl.SSLContext | bool = True
    if spec.cainfo:
        ssl_ctx = ssl.create_default_context(cafile=spec.cainfo)
    connector = aiohttp.TCPConnector(
        limit=spec.concurrency, force_close=spec.new_connection, ssl=ssl_ctx
    )
    headers = {"Connection": "close"} if spec.new_connection else None
    # No total timeout: a stuck run is the runner's to kill.
    return aiohttp.ClientSession(
        connector=connector, headers=headers, timeout=aiohttp.ClientTimeout(total=None)
    )


async def _batch(session: Any, spec: Spec, total: int) -> tuple[int, int]:
    """Do `total` requests, spec.concurrency at once; return (body bytes, failures)."""
    url, stream = spec.url, spec.stream

    async def fetch() -> tuple[int, int]:
        async with session.get(url) as resp:
            if stream:
                nbytes = 0
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    nbytes += len(chunk)
                return nbytes, resp.status
            return len(await resp.read()), resp.status

    return await run_workers(spec.concurrency, total, fetch)


async def _run(spec: Spec) -> Result:
    if spec.http2:
        return Result("unavailable", reason="aiohttp has no HTTP/2 client")
    async with await _session(spec) as session:
        try:
            async with session.get(spec.url) as resp:
                await resp.read()
                if resp.status != 200:
                    return Result("unavailable", reason=f"probe got HTTP {resp.status}")
        except Exception as exc:
            return Result("unavailable", reason=f"{type(exc).__name__}: {exc}")
        return await timed_batches(spec, lambda n: _batch(session, spec, n))


def run(spec: Spec, args: list[str]) -> Result:
    """Run the scenario on asyncio, or on uvloop when args[0] == "uvloop"."""
    if args[:1] == ["uvloop"]:
        try:
            import uvloop
        except ImportError as exc:
            return Result("unavailable", reason=f"cannot import uvloop: {exc}")
        return uvloop.run(_run(spec))
    return asyncio.run(_run(spec))


if __name__ == "__main__":
    main(run)
