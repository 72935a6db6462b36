"""kombu's curl client (Celery's SQS transport uses it) on purecurl, against a local server.

kombu binds `pycurl` when `kombu.asynchronous.http.curl` is imported, so the module is loaded
afresh with purecurl as `pycurl` (and put back afterwards). The client drives the multi with
`socket_all()` from its timer and `socket_action` from its hub, and sends POST bodies through
READFUNCTION + IOCTLFUNCTION + POSTFIELDSIZE.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.servers import HttpServer, Request, Response

kombu_hub = pytest.importorskip("kombu.asynchronous.hub")

# kombu sets IOCTLFUNCTION and calls socket_all(), which pycurl (and so purecurl) reports as
# deprecated
pytestmark = [
    pytest.mark.filterwarnings("ignore:IOCTLFUNCTION is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:socket_all is deprecated:DeprecationWarning"),
]


@pytest.fixture
def curl_module() -> Iterator[ModuleType]:
    import purecurl

    name = "kombu.asynchronous.http.curl"
    saved_module = sys.modules.pop(name, None)
    saved_pycurl = sys.modules.get("pycurl")
    sys.modules["pycurl"] = purecurl
    try:
        module = importlib.import_module(name)
        assert module.pycurl is purecurl
        yield module
    finally:
        sys.modules.pop(name, None)
        if saved_module is not None:
            sys.modules[name] = saved_module
        if saved_pycurl is not None:
            sys.modules["pycurl"] = saved_pycurl
        else:
            sys.modules.pop("pycurl", None)


def _echo(request: Request) -> Response:
    body = f"{request.method} {request.target} ".encode() + request.body
    return Response(headers=[("X-Seen", request.header("expect") or "-")], body=body)


@pytest.fixture
def server() -> Iterator[HttpServer]:
    with HttpServer({"/e": _echo, "/slow": Response(body=b"late", delay=0.2)}) as s:
        yield s


def _run(curl_module: ModuleType, requests: list[dict[str, Any]]) -> list[Any]:
    from kombu.asynchronous.http import Request
    from vine import promise

    make_request: Any = Request  # kombu's Request is not annotated

    hub = kombu_hub.Hub()
    client = curl_module.CurlClient(hub, max_clients=3)
    responses: list[Any] = []
    try:
        for spec in requests:
            client.add_request(make_request(on_ready=promise(responses.append), **spec))
        deadline = time.monotonic() + 20
        while len(responses) < len(requests) and time.monotonic() < deadline:
            hub.run_once()
    finally:
        client.close()
        hub.close()
    return responses


def test_get_post_put(curl_module: ModuleType, server: HttpServer) -> None:
    responses = _run(
        curl_module,
        [
            {"url": server.url("/e")},
            {"url": server.url("/e"), "method": "POST", "body": b"a=1"},
            {"url": server.url("/e"), "method": "PUT", "body": "put body"},
            {"url": server.url("/e"), "method": "DELETE"},
            {"url": server.url("/slow")},
        ],
    )
    by_body = sorted(r.body for r in responses)
    assert by_body == sorted(
        [b"GET /e ", b"POST /e a=1", b"PUT /e put body", b"DELETE /e ", b"late"]
    )
    assert all(r.code == 200 and r.error is None for r in responses)
    # kombu sends "Expect:" (no 100-continue wait) and "Pragma:" (no header at all)
    assert all(r.header("expect") is None for r in server.requests)
    assert all(r.header("pragma") is None for r in server.requests)


def test_failure_is_599(curl_module: ModuleType) -> None:
    from tests.integration._util import free_port

    responses = _run(curl_module, [{"url": f"http://127.0.0.1:{free_port()}/"}])
    assert len(responses) == 1
    assert responses[0].code == 599
    assert responses[0].error.errno == 7
