"""`purecurl.batch`: fetch a URL list across a Dask cluster (a LocalCluster by default).

    from purecurl.batch import fetch

    result = fetch("urls.txt", "out/", per_host_limit=4)
    print(result.ok, result.failed, result.manifest)

Theory of operation
-------------------
purecurl does not grow a cluster of its own: a batch runs on Dask distributed. The client
(`coordinator.fetch`) reads the URL list (`inputs`), skips what an earlier run recorded as
done, splits the rest by host (`plan`: every host in exactly one partition, so that one
worker, through one multi handle, holds that host's `per_host_limit`) and submits one task
per partition. A task (`runner.run_partition`) runs its requests through one purecurl
`CurlMulti` on the selectors driver, retries transient failures (`retry`, curl's `--retry`
rules), writes bodies into the sink (`sink`: a directory, or any fsspec URL) and appends a
record per finished request to its own journal. The journals are the truth (`manifest`): a
re-run partition skips what they hold, the client's progress reads them, and at the end they
are merged into `manifest.jsonl` (plus `manifest.parquet` with pyarrow), which is what makes
the next run resumable.

Dask is imported only when a batch runs: `import purecurl` and `import purecurl.batch` do not
need it. The command is `purecurl-batch` (`python -m purecurl.batch`), in `cli`.
"""

from __future__ import annotations

from purecurl.batch.coordinator import (
    DEFAULT_PER_HOST_LIMIT,
    DEFAULT_PER_WORKER_CONCURRENCY,
    BatchError,
    BatchProgress,
    BatchResult,
    WorkerStats,
    fetch,
)
from purecurl.batch.inputs import InputError, UrlRequest, load_requests, make_request
from purecurl.batch.manifest import ManifestError, Record, read_manifest
from purecurl.batch.retry import RetryPolicy
from purecurl.batch.sink import FsspecSink, LocalSink, Sink, open_sink

__all__ = [
    "DEFAULT_PER_HOST_LIMIT",
    "DEFAULT_PER_WORKER_CONCURRENCY",
    "BatchError",
    "BatchProgress",
    "BatchResult",
    "FsspecSink",
    "InputError",
    "LocalSink",
    "ManifestError",
    "Record",
    "RetryPolicy",
    "Sink",
    "UrlRequest",
    "WorkerStats",
    "fetch",
    "load_requests",
    "make_request",
    "open_sink",
    "read_manifest",
]
