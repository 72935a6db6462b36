"""The demo's HTTP/2 server: h2c with prior knowledge (RFC 9113 section 3.3), on the h2 library.

Theory of operation: one thread runs a `selectors` loop over the listening socket, every
accepted connection and one end of a socket pair that `stop()` writes to, so the loop ends at
once and closes every socket it holds before the thread is joined. Each connection is a
server-side `h2.H2Connection` fed what arrives. A request whose path `body_size` maps to a
length gets a 200 with that many pattern bytes (byte i is i % 256, the demo's bodies); any
other path gets a 404. Bodies go out as the client's flow-control windows allow: each round,
every stream with bytes left queues at most one DATA frame, so concurrent responses
interleave on the wire as a real server's do, until the queued output reaches a high-water
mark; the next round comes when the socket drains or a WINDOW_UPDATE arrives. The server
counts connections, requests and the most streams open at once on one connection, for the
demo's summary.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from collections.abc import Callable

import h2.config
import h2.connection
import h2.events
import h2.exceptions

_RECV_SIZE = 1 << 16
_HIGH_WATER = 1 << 18  # queued output bytes beyond which a round stops making frames
_MAX_CHUNK = 1 << 16  # a DATA frame's body at most (the client may allow up to 16 MiB)
_PATTERN = bytes(range(256)) * ((_MAX_CHUNK >> 8) + 1)  # any chunk is a slice of it


class _Connection:
    """One accepted connection: its h2 state, the output not yet sent, the bodies not yet
    queued (stream id -> [bytes sent, body length])."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.h2 = h2.connection.H2Connection(config)
        self.h2.initiate_connection()
        self.out = bytearray(self.h2.data_to_send())
        self.bodies: dict[int, list[int]] = {}
        self.closing = False  # the peer sent GOAWAY, or broke the protocol

    def queue_data(self) -> bool:
        """Queue DATA frames up to the high-water mark; True if a body may still send now."""
        h2c = self.h2
        while len(self.out) < _HIGH_WATER:
            queued = False
            for stream_id, body in list(self.bodies.items()):
                sent, length = body
                n = min(length - sent, h2c.local_flow_control_window(stream_id), _MAX_CHUNK)
                n = min(n, h2c.max_outbound_frame_size)
                if n <= 0:
                    continue
                start = sent & 0xFF
                last = sent + n == length
                h2c.send_data(stream_id, _PATTERN[start : start + n], end_stream=last)
                queued = True
                if last:
                    del self.bodies[stream_id]
                else:
                    body[0] = sent + n
            self.out += h2c.data_to_send()
            if not queued:
                return False
        return any(h2c.local_flow_control_window(stream_id) > 0 for stream_id in self.bodies)


class H2cServer:
    """An h2c (prior knowledge) server on 127.0.0.1 in a thread; a context manager.

    `body_size(path)` is the length of the body `path` gets, or None for a 404.
    """

    def __init__(self, body_size: Callable[[str], int | None]) -> None:
        self.body_size = body_size
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.listener.setblocking(False)
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="demo-h2c", daemon=True)
        self.connections = 0
        self.requests = 0
        self.max_open_streams = 0

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def __repr__(self) -> str:
        return (
            f"<H2cServer port={self.port} connections={self.connections}"
            f" requests={self.requests} max_open_streams={self.max_open_streams}>"
        )

    def start(self) -> H2cServer:
        """Start serving in the thread; return self."""
        self._thread.start()
        return self

    def __enter__(self) -> H2cServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """End the loop, close every socket, join the thread (idempotent)."""
        if not self._stopping:
            self._stopping = True
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
        if self._thread.is_alive():
            self._thread.join(5)
        if not self._thread.is_alive():
            # Not before the thread ended: it may still be selecting on these.
            self._wake_w.close()
            self._wake_r.close()
            self.listener.close()

    # -- the loop ----------------------------------------------------------------------------

    def _serve(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self.listener, selectors.EVENT_READ)
        sel.register(self._wake_r, selectors.EVENT_READ)
        conns: list[_Connection] = []
        try:
            while not self._stopping:
                for key, mask in sel.select():
                    if key.fileobj is self.listener:
                        conns += self._accept(sel)
                    elif isinstance(key.data, _Connection):
                        self._service(sel, key.data, mask, conns)
        finally:
            for conn in conns:
                conn.sock.close()
            sel.close()

    def _accept(self, sel: selectors.BaseSelector) -> list[_Connection]:
        accepted: list[_Connection] = []
        while True:
            try:
                sock, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return accepted
            sock.setblocking(False)
            # Frames are small writes: Nagle would hold them for the client's delayed ACK.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Connection(sock)
            self.connections += 1
            sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)
            accepted.append(conn)

    def _service(
        self,
        sel: selectors.BaseSelector,
        conn: _Connection,
        mask: int,
        conns: list[_Connection],
    ) -> None:
        alive, more = True, False
        try:
            if mask & selectors.EVENT_READ:
                alive = self._receive(conn)
            more = conn.queue_data()
            if conn.out:
                sent = conn.sock.send(conn.out)
                del conn.out[:sent]
        except (BlockingIOError, InterruptedError):
            more = True
        except (OSError, h2.exceptions.H2Error):
            alive = False
        if not alive or (conn.closing and not conn.out):
            sel.unregister(conn.sock)
            conn.sock.close()
            conns.remove(conn)
            return
        # Writable interest while there is output, or a body the windows let through.
        events = selectors.EVENT_READ
        if conn.out or more:
            events |= selectors.EVENT_WRITE
        sel.modify(conn.sock, events, conn)

    def _receive(self, conn: _Connection) -> bool:
        """Read and handle what arrived; False when the peer closed the connection."""
        try:
            data = conn.sock.recv(_RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return True
        if not data:
            return False
        h2c = conn.h2
        try:
            events = h2c.receive_data(data)
        except h2.exceptions.ProtocolError:
            conn.closing = True  # h2 queued the GOAWAY it owes the peer
            conn.bodies.clear()
            events = []
        for event in events:
            if isinstance(event, h2.events.RequestReceived) and event.stream_id:
                self._respond(conn, event)
            elif isinstance(event, h2.events.DataReceived) and event.stream_id:
                # A request body is read and dropped; its window opens again.
                h2c.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamReset):
                conn.bodies.pop(event.stream_id or 0, None)
            elif isinstance(event, h2.events.ConnectionTerminated):
                conn.closing = True  # h2 sends nothing more after a GOAWAY
                conn.bodies.clear()
        conn.out += h2c.data_to_send()
        return True

    def _respond(self, conn: _Connection, event: h2.events.RequestReceived) -> None:
        stream_id = event.stream_id
        assert stream_id is not None
        self.requests += 1
        self.max_open_streams = max(self.max_open_streams, conn.h2.open_inbound_streams)
        path = dict(event.headers or []).get(b":path", b"/")
        size = self.body_size(bytes(path).decode("latin-1"))
        status = b"404" if size is None else b"200"
        length = size or 0
        headers = [
            (b":status", status),
            (b"content-type", b"application/octet-stream"),
            (b"content-length", str(length).encode()),
            (b"server", b"purecurl-demo/1"),
        ]
        conn.h2.send_headers(stream_id, headers, end_stream=length == 0)
        if length:
            conn.bodies[stream_id] = [0, length]
