"""purecurl.aio client, on asyncio's default loop.

    python -m bench.clients.purecurl_aio SPEC_JSON

Does what aiohttp_client does, through `purecurl.aio.Session`: `concurrency` worker tasks share
one session (one multi, one connection pool) and take requests from a shared counter until none
remain. A keep-alive scenario reads each body whole (`read()`); the big download
(`spec.stream`) drops it chunk by chunk from `stream()`, with the session's default
`stream_buffer` as backpressure. A new connection per request is "Connection: close" (libcurl
then closes the connection after the response, as FORBID_REUSE would). HTTP/2 scenarios set
`http_version` ("2" over TLS, "2-prior-knowledge" for h2c), under which requests made together
share one connection as streams.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.clients.common import Result, Spec, main, run_workers, timed_batches


def _session(spec: Spec) -> Any:
    from purecurl import aio

    version: Any = None
    if spec.http2:
        version = "2" if spec.url.startswith("https:") else "2-prior-knowledge"
    return aio.Session(
        verify=spec.cainfo or True,
        headers={"Connection": "close"} if spec.new_connection else None,
        decompress=False,  # the other clients do not ask for compressed bodies either
        http_version=version,
    )


async def _batch(session: Any, spec: Spec, total: int) -> tuple[int, int]:
    """Do `total` requests, spec.concurrency at once; return (body bytes, failures)."""
    url, stream = spec.url, spec.stream

    async def fetch() -> tuple[int, int]:
        if stream:
            nbytes = 0
            async with await session.get(url, stream=True) as resp:
                async for chunk in resp.stream():
                    nbytes += len(chunk)
            return nbytes, resp.status
        resp = await session.get(url)
        return len(await resp.read()), resp.status

    return await run_workers(spec.concurrency, total, fetch)


async def _run(spec: Spec) -> Result:
    async with _session(spec) as session:
        try:
            resp = await session.get(spec.url)
            await resp.read()
            if resp.status != 200:
                return Result("unavailable", reason=f"probe got HTTP {resp.status}")
            if spec.http2 and resp.http_version != "HTTP/2":
                return Result("unavailable", reason=f"asked for HTTP/2, got {resp.http_version}")
        except Exception as exc:
            return Result("unavailable", reason=f"{type(exc).__name__}: {exc}")
        return await timed_batches(spec, lambda n: _batch(session, spec, n))


def run(spec: Spec, args: list[str]) -> Result:
    """Probe, warm up and time `spec` through purecurl.aio."""
    return asyncio.run(_run(spec))


if __name__ == "__main__":
    main(run)
