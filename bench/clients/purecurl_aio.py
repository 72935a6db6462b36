"""purecurl.aio client: a slot until `purecurl.aio` exists.

    python -m bench.clients.purecurl_aio SPEC_JSON

Reports "unavailable" while `import purecurl.aio` fails. When the module lands, this client is
to do what aiohttp_client does (`concurrency` tasks sharing one session, bodies counted and
dropped) through purecurl.aio's API.
"""

from __future__ import annotations

import importlib

from bench.clients.common import Result, Spec, main


def run(spec: Spec, args: list[str]) -> Result:
    """Report unavailable until purecurl.aio exists (and until its client is written here)."""
    try:
        importlib.import_module("purecurl.aio")
    except ImportError as exc:
        return Result("unavailable", reason=f"purecurl.aio does not exist yet ({exc})")
    return Result("unavailable", reason="purecurl.aio exists; its bench client is not written")


if __name__ == "__main__":
    main(run)
