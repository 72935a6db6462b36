"""httpx AsyncClient on asyncio.

    python -m bench.clients.httpx_client SPEC_JSON

`concurrency` worker tasks share one AsyncClient whose pool allows `concurrency` connections.
Keep-alive scenarios read each body whole (`get`); the big download (`spec.stream`) discards
it chunk by chunk (`stream` + `aiter_raw`). A new connection per request is a pool without
keep-alive plus "Connection: close". HTTP/2 uses httpx's h2 support (`http2=True`; with
`http1=False` for h2c prior knowledge on http:// URLs); the probe checks the response really is
HTTP/2, and without the `h2` package the scenario is reported unavailable.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from bench.clients.common import Result, Spec, main, run_workers, timed_batches


def _client(spec: Spec) -> Any:
    import httpx

    limits = httpx.Limits(
        max_connections=spec.concurrency,
        max_keepalive_connections=0 if spec.new_connection else spec.concurrency,
    )
    verify: ssl.SSLContext | bool = True
    if spec.cainfo:
        verify = ssl.create_default_context(cafile=spec.cainfo)
    headers = {"Connection": "close"} if spec.new_connection else None
    http1 = not (spec.http2 and spec.url.startswith("http:"))
    return httpx.AsyncClient(
        limits=limits,
        verify=verify,
        headers=headers,
        http1=http1,
        http2=spec.http2,
        timeout=httpx.Timeout(None),
    )


async def _batch(client: Any, spec: Spec, total: int) -> tuple[int, int]:
    """Do `total` requests, spec.concurrency at once; return (body bytes, failures)."""
    url, stream = spec.url, spec.stream

    async def fetch() -> tuple[int, int]:
        if stream:
            nbytes = 0
            async with client.stream("GET", url) as resp:
                async for chunk in resp.aiter_raw():
                    nbytes += len(chunk)
            return nbytes, resp.status_code
        resp = await client.get(url)
        return len(resp.content), resp.status_code

    return await run_workers(spec.concurrency, total, fetch)


async def _run(spec: Spec) -> Result:
    try:
        client = _client(spec)
    except ImportError as exc:  # http2=True without the h2 package
        return Result("unavailable", reason=f"{type(exc).__name__}: {exc}")
    async with client:
        try:
            resp = await client.get(spec.url)
        except Exception as exc:
            return Result("unavailable", reason=f"{type(exc).__name__}: {exc}")
        if resp.status_code != 200:
            return Result("unavailable", reason=f"probe got HTTP {resp.status_code}")
        if spec.http2 and resp.http_version != "HTTP/2":
            return Result("unavailable", reason=f"asked for HTTP/2, got {resp.http_version}")
        return await timed_batches(spec, lambda n: _batch(client, spec, n))


def run(spec: Spec, args: list[str]) -> Result:
    """Run the scenario on asyncio."""
    return asyncio.run(_run(spec))


if __name__ == "__main__":
    main(run)
