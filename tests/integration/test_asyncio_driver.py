"""The asyncio driver and `AsyncCurlMulti` over loopback, on asyncio's default loop and uvloop,
driving purecurl and the real pycurl (fixture `mod`).

The driver's contract is SEMANTICS.md rules 1, 8-10 and 15-16 seen from the application side:
socket interest becomes add_reader/add_writer and only changes are applied, the timer becomes one
loop timer whose 0 is "next turn" (socket_action is never called from inside the callback), and
every finished transfer is collected through info_read.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from types import ModuleType
from typing import Any, TypeVar

import pytest

from purecurl.async_multi import AsyncCurlMulti
from purecurl.drivers.asyncio import AsyncioDriver, check_loop, run
from tests.servers import HttpServer, ServerConnection, ServerFactory, pattern_bytes

T = TypeVar("T")

LOOPS = ["asyncio", "uvloop"]


def run_on(loop_kind: str, main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run `main()` to its end on a new loop of `loop_kind` and close the loop."""
    if loop_kind == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


@pytest.fixture(scope="session", autouse=True)
def _uvloop_warm() -> None:
    """uvloop opens a process-wide pipe pair with its first loop and keeps it: open it before
    the leak check's snapshot (session fixtures come first), so it is not counted as a leak."""
    try:
        import uvloop
    except ImportError:
        return
    uvloop.new_event_loop().close()


@pytest.fixture(params=LOOPS)
def loop_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    if kind == "uvloop":
        pytest.importorskip("uvloop")
    return kind


def new_curl(mod: ModuleType, url: str, sink: list[bytes]) -> Any:
    c = mod.Curl()
    c.setopt(mod.URL, url)
    c.setopt(mod.WRITEFUNCTION, sink.append)
    return c


def stall_after(data: bytes, closed: threading.Event | None = None) -> Any:
    """A handler that answers `data` and then waits for the client to close (sets `closed`)."""

    def handler(conn: ServerConnection) -> None:
        if conn.read_request() is None:
            return
        if data:
            conn.send(data)
        try:
            while conn.recv():
                pass
        finally:
            if closed is not None:
                closed.set()

    return handler


# -- the driver ---------------------------------------------------------------------------------


def test_many_concurrent_transfers(mod: ModuleType, loop_kind: str, server: HttpServer) -> None:
    """200 transfers at once on one multi: every body arrives whole, every code is 0."""
    sinks = [[] for _ in range(200)]  # type: list[list[bytes]]
    handles = [new_curl(mod, server.url(f"/bytes/{1000 + i}"), s) for i, s in enumerate(sinks)]

    async def main() -> list[tuple[Any, int, str]]:
        multi = mod.CurlMulti()
        try:
            return await run(multi, handles)
        finally:
            multi.close()

    try:
        results = run_on(loop_kind, main)
    finally:
        for c in handles:
            c.close()
    assert sorted(code for _, code, _ in results) == [0] * 200
    assert [b"".join(s) for s in sinks] == [pattern_bytes(1000 + i) for i in range(200)]


def test_timeout_ms_is_timer_driven(
    mod: ModuleType, loop_kind: str, scripted: ServerFactory
) -> None:
    """Rule 18 through the loop timer: a stalled body ends with 28 after TIMEOUT_MS, with no
    socket event to wake the driver (only the call_later timer does)."""
    srv = scripted(stall_after(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello"))
    sink: list[bytes] = []
    c = new_curl(mod, srv.url("/"), sink)
    c.setopt(mod.TIMEOUT_MS, 200)

    async def main() -> tuple[list[tuple[Any, int, str]], float]:
        loop = asyncio.get_running_loop()
        multi = mod.CurlMulti()
        start = loop.time()
        try:
            return await run(multi, [c]), loop.time() - start
        finally:
            multi.close()

    try:
        ((_, code, message),), took = run_on(loop_kind, main)
    finally:
        c.close()
    assert code == 28, message
    assert message.startswith("Operation timed out after")
    assert b"".join(sink) == b"hello"
    assert 0.19 <= took < 2.0


def test_timer_zero_is_next_turn(mod: ModuleType, server: HttpServer) -> None:
    """Rule 15: add_handle calls the timer with 0; the driver schedules the expiry and does not
    call socket_action from inside the callback (nothing ran before the loop turned)."""
    sink: list[bytes] = []
    c = new_curl(mod, server.url("/hello"), sink)

    async def main() -> tuple[int, bool, int]:
        multi = mod.CurlMulti()
        driver = AsyncioDriver(multi)
        try:
            multi.add_handle(c)
            actions_at_add, armed = driver.actions, driver.timer_armed
            await asyncio.sleep(0)
            await asyncio.sleep(0.05)
            return actions_at_add, armed, driver.actions
        finally:
            driver.close()
            multi.close()

    try:
        actions_at_add, armed, actions_later = asyncio.run(main())
    finally:
        c.close()
    assert (actions_at_add, armed) == (0, True)
    assert actions_later >= 1
    assert b"".join(sink) == b"hello\n"


def test_on_done_may_add_handles(mod: ModuleType, server: HttpServer) -> None:
    """on_done runs outside socket_action (rule 19 does not bite): it can add the next transfer
    and the chain runs to its end over one kept-alive connection."""
    sink: list[bytes] = []
    handles = [new_curl(mod, server.url(f"/bytes/{i}"), sink) for i in range(1, 6)]

    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        multi = mod.CurlMulti()
        codes: list[int] = []
        finished = loop.create_future()

        def on_done(curl: Any, code: int, message: str) -> None:
            codes.append(code)
            if len(codes) < len(handles):
                multi.add_handle(handles[len(codes)])
            else:
                finished.set_result(None)

        driver = AsyncioDriver(multi, on_done)
        try:
            multi.add_handle(handles[0])
            await asyncio.wait_for(finished, 10)
            return codes
        finally:
            driver.close()
            multi.close()

    try:
        assert asyncio.run(main()) == [0] * 5
    finally:
        for c in handles:
            c.close()
    assert b"".join(sink) == b"".join(pattern_bytes(i) for i in range(1, 6))
    assert server.connections_accepted == 1


class RecordingLoop:
    """Just enough of a loop for the socket/timer callbacks: records what the driver asks."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self.timers: list[float] = []

    def add_reader(self, fd: int, *args: Any) -> None:
        self.calls.append(("add_reader", fd))

    def add_writer(self, fd: int, *args: Any) -> None:
        self.calls.append(("add_writer", fd))

    def remove_reader(self, fd: int) -> bool:
        self.calls.append(("remove_reader", fd))
        return True

    def remove_writer(self, fd: int) -> bool:
        self.calls.append(("remove_writer", fd))
        return True

    def get_debug(self) -> bool:
        return False

    def call_soon(self, cb: Any, *args: Any) -> asyncio.Handle:
        self.timers.append(0.0)
        return asyncio.Handle(cb, args, self)  # type: ignore[arg-type]

    def call_later(self, delay: float, cb: Any, *args: Any) -> asyncio.Handle:
        self.timers.append(delay)
        return asyncio.Handle(cb, args, self)  # type: ignore[arg-type]


class FakeMulti:
    def __init__(self) -> None:
        self.options: dict[int, Any] = {}

    def setopt(self, option: int, value: Any) -> None:
        self.options[option] = value


def test_socket_callback_applies_only_changes() -> None:
    """Rules 8-10: POLL_IN/OUT/INOUT/REMOVE become add/remove of reader and writer, and only
    the difference from what is registered reaches the loop."""
    loop = RecordingLoop()
    driver = AsyncioDriver(FakeMulti(), loop=loop)  # type: ignore[arg-type]
    cb = driver._on_socket
    cb(2, 7, None, None)  # POLL_OUT
    cb(3, 7, None, None)  # POLL_INOUT: add the reader only
    cb(1, 7, None, None)  # POLL_IN: drop the writer only
    cb(1, 7, None, None)  # same again: nothing
    cb(4, 7, None, None)  # POLL_REMOVE
    cb(4, 7, None, None)  # a stray REMOVE: nothing
    assert loop.calls == [
        ("add_writer", 7),
        ("add_reader", 7),
        ("remove_writer", 7),
        ("remove_reader", 7),
    ]
    cb(3, 9, None, None)
    assert driver.watched == {9: 3}
    driver.close()
    assert loop.calls[-2:] == [("remove_reader", 9), ("remove_writer", 9)]
    assert driver.watched == {}


def test_timer_callback_replaces_and_cancels() -> None:
    """Rule 15: one timer; each call replaces the last, -1 deletes it, ms become seconds."""
    loop = RecordingLoop()
    driver = AsyncioDriver(FakeMulti(), loop=loop)  # type: ignore[arg-type]
    driver._on_timer(250)
    first = driver._timer
    driver._on_timer(0)
    assert first is not None and first.cancelled()
    assert loop.timers == [0.25, 0.0] and driver.timer_armed
    driver._on_timer(-1)
    assert not driver.timer_armed
    driver.close()


class NoReadinessLoop(asyncio.AbstractEventLoop):
    """Like Windows' ProactorEventLoop: add_reader is AbstractEventLoop's NotImplementedError."""


def test_loop_without_add_reader_is_refused() -> None:
    """A loop without a readiness API is refused up front, with a message saying what to do;
    NotImplementedError is a RuntimeError, which is what pycurl's AsyncCurlMulti raises."""
    with pytest.raises(NotImplementedError, match=r"add_reader.*SelectorEventLoop"):
        check_loop(NoReadinessLoop())  # type: ignore[abstract]
    with pytest.raises(RuntimeError, match="ProactorEventLoop"):
        AsyncioDriver(FakeMulti(), loop=NoReadinessLoop())  # type: ignore[abstract]


# -- AsyncCurlMulti -----------------------------------------------------------------------------


def async_multi(mod: ModuleType) -> AsyncCurlMulti:
    """purecurl's AsyncCurlMulti over `mod`'s CurlMulti (the real pycurl's too)."""
    return AsyncCurlMulti(multi=mod.CurlMulti())


def test_perform_returns_the_handle(mod: ModuleType, loop_kind: str, server: HttpServer) -> None:
    """`await perform(curl)` returns the same Curl once its transfer has ended; many at once
    with asyncio.gather(*futures())."""

    async def main() -> None:
        async with async_multi(mod) as m:
            sink: list[bytes] = []
            c = new_curl(mod, server.url("/hello"), sink)
            assert await m.perform(c) is c
            assert c.getinfo(mod.RESPONSE_CODE) == 200 and sink == [b"hello\n"]
            sinks = [[] for _ in range(50)]  # type: list[list[bytes]]
            batch = [
                new_curl(mod, server.url(f"/chunked/{i * 100}"), s) for i, s in enumerate(sinks)
            ]
            for h in batch:
                m.add_handle(h)
            assert len(m.futures()) == 50
            assert await asyncio.gather(*m.futures()) == batch
            assert m.futures() == ()
            assert [b"".join(s) for s in sinks] == [pattern_bytes(i * 100) for i in range(50)]
            for h in [c, *batch]:
                h.close()

    run_on(loop_kind, main)


def test_failure_raises_error_code_message(mod: ModuleType, scripted: ServerFactory) -> None:
    """A failed transfer raises the module's `error(code, message)`: 7 for a refused connect,
    28 for TIMEOUT_MS (timer-driven), 3 for no URL."""
    srv = scripted(stall_after(b""))

    async def main() -> list[tuple[type[BaseException], int, str]]:
        got: list[tuple[type[BaseException], int, str]] = []
        async with async_multi(mod) as m:
            refused = new_curl(mod, "http://127.0.0.1:1/", [])
            slow = new_curl(mod, srv.url("/"), [])
            slow.setopt(mod.TIMEOUT_MS, 150)
            no_url = mod.Curl()
            for c in (refused, slow, no_url):
                try:
                    await m.perform(c)
                except Exception as exc:
                    got.append((type(exc), exc.args[0], exc.args[1]))
                c.close()
        return got

    got = asyncio.run(main())
    assert [(cls, code) for cls, code, _ in got] == [
        (mod.error, 7),
        (mod.error, 28),
        (mod.error, 3),
    ]
    assert got[0][2].startswith("Failed to connect to 127.0.0.1")


def test_cancel_removes_transfer_at_once(
    mod: ModuleType, loop_kind: str, scripted: ServerFactory
) -> None:
    """Cancelling the task awaiting perform() removes the handle before the cancellation
    propagates: the socket is unwatched, the connection closed (the server sees EOF), and no
    callback of the transfer runs afterwards (the leak check holds the fd count)."""
    closed = threading.Event()
    srv = scripted(stall_after(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc", closed))

    async def main() -> tuple[int, int, dict[int, int], bool]:
        async with async_multi(mod) as m:
            got = asyncio.Event()
            writes: list[bytes] = []

            def write(data: bytes) -> None:
                writes.append(data)
                got.set()

            c = mod.Curl()
            c.setopt(mod.URL, srv.url("/"))
            c.setopt(mod.WRITEFUNCTION, write)
            task = asyncio.ensure_future(m.perform(c))
            await asyncio.wait_for(got.wait(), 5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            driver = m.driver
            assert driver is not None
            watched = driver.watched
            n = len(writes)
            await asyncio.sleep(0.1)
            gone = await asyncio.get_running_loop().run_in_executor(None, closed.wait, 5)
            c.close()
            return n, len(writes), watched, gone

    before, after, watched, gone = run_on(loop_kind, main)
    assert before == after == 1
    assert watched == {}
    assert gone


def test_cancelled_future_from_add_handle(mod: ModuleType, scripted: ServerFactory) -> None:
    """Cancelling an add_handle() future removes the handle: it can be added again at once."""
    srv = scripted(stall_after(b""))

    async def main() -> None:
        async with async_multi(mod) as m:
            c = new_curl(mod, srv.url("/"), [])
            fut = m.add_handle(c)
            await asyncio.sleep(0.05)
            assert fut.cancel()
            assert m.futures() == ()
            c.setopt(mod.URL, "http://127.0.0.1:1/")
            with pytest.raises(mod.error):
                await m.perform(c)
            c.close()

    asyncio.run(main())


def test_api_misuse(mod: ModuleType, server: HttpServer) -> None:
    """pycurl's documented refusals: add_handle outside a running loop, twice, or after
    aclose (RuntimeError); remove_handle of an unknown handle (RuntimeError); setting the
    callbacks the class owns (ValueError); futures() of an unknown handle (KeyError)."""
    m = async_multi(mod)
    c = new_curl(mod, server.url("/hello"), [])
    with pytest.raises(RuntimeError):
        m.add_handle(c)
    with pytest.raises(ValueError):
        m.setopt(mod.M_SOCKETFUNCTION, None)
    with pytest.raises(ValueError):
        m.setopt(mod.M_TIMERFUNCTION, None)
    m.setopt(mod.M_MAXCONNECTS, 3)

    async def main() -> None:
        fut = m.add_handle(c)
        with pytest.raises(RuntimeError, match="already registered"):
            m.add_handle(c)
        with pytest.raises(KeyError):
            m.futures([mod.Curl()])
        assert m.futures([c, c]) == (fut, fut)
        m.remove_handle(c)
        assert fut.cancelled()
        with pytest.raises(RuntimeError, match="not registered"):
            m.remove_handle(c)
        pending = m.add_handle(c)
        await m.aclose()
        assert pending.cancelled() and m.closed
        await m.aclose()  # idempotent
        with pytest.raises(RuntimeError):
            m.add_handle(c)

    try:
        asyncio.run(main())
    finally:
        c.close()


def test_real_pycurl_async_curl_multi_agrees(server: HttpServer) -> None:
    """The real pycurl's own AsyncCurlMulti behaves as ours does on the same script (checks
    the contract we follow, where pycurl offers it)."""
    pycurl = pytest.importorskip("pycurl")
    if not hasattr(pycurl, "AsyncCurlMulti"):
        pytest.skip("this pycurl has no AsyncCurlMulti")

    async def script(m: Any) -> list[Any]:
        seen: list[Any] = []
        async with m:
            c = new_curl(pycurl, server.url("/hello"), [])
            seen.append((await m.perform(c)) is c)
            bad = new_curl(pycurl, "http://127.0.0.1:1/", [])
            try:
                await m.perform(bad)
            except pycurl.error as exc:
                seen.append(exc.args[0])
            seen.append(m.futures())
            try:
                m.remove_handle(c)
            except RuntimeError:
                seen.append("RuntimeError")
            c.close()
            bad.close()
        seen.append(m.closed)
        return seen

    theirs = asyncio.run(script(pycurl.AsyncCurlMulti()))
    ours = asyncio.run(script(AsyncCurlMulti(multi=pycurl.CurlMulti())))
    assert ours == theirs == [True, 7, (), "RuntimeError", True]
