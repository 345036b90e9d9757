"""A small threaded HTTPS/1.1 WSGI server with keep-alive, for the simulated clouds.

Why not werkzeug's development server: it closes every connection after one answer (and then waits 10 ms
draining the socket), so each Graph call would pay a fresh TLS handshake; Graph itself keeps connections
alive, and clients (requests' connection pool, msal) are built for that. The WSGI side is unchanged: the
apps are werkzeug ``Request``/``Response`` code.

* one thread per connection; the TLS handshake runs in that thread, so a slow client never blocks ``accept``;
* request bodies need ``Content-Length`` (what requests and msal send); answers always carry it;
* an app raising ``ResetConnection`` gets the connection closed with ``SO_LINGER`` 0: the peer sees a TCP RST,
  not an HTTP answer (the simulator's "reset" fault).
"""

from __future__ import annotations

import http.server
import io
import socket
import socketserver
import ssl
import struct
import sys
import threading
from typing import Any, Callable, Iterable
from urllib.parse import unquote_to_bytes

__all__ = ["HTTPSServer", "ResetConnection"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ResetConnection(ConnectionError):
    """Raised by a WSGI app to make the server drop the connection with a TCP reset."""


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60            # an idle keep-alive connection is closed after this many seconds
    server: "HTTPSServer"

    def setup(self) -> None:
        super().setup()
        self.connection.do_handshake()      # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        pass                # library code never prints

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, ssl.SSLError, OSError):
            self.close_connection = True

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._run
        raise AttributeError(name)

    def _environ(self, body: bytes) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command, "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"), "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": str(self.server.server_port),
            "SERVER_PROTOCOL": self.request_version, "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": str(self.client_address[1]), "CONTENT_LENGTH": str(len(body)) if body else "",
            "CONTENT_TYPE": self.headers.get("Content-Type", ""), "REQUEST_URI": self.path,
            "wsgi.version": (1, 0), "wsgi.url_scheme": "https", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False}
        for key, value in self.headers.items():
            name = "HTTP_" + key.upper().replace("-", "_")
            if name in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                continue
            environ[name] = f"{environ[name]},{value}" if name in environ else value
        return environ

    def _run(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.send_error(411, "Length Required")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "Bad Content-Length")
            return
        body = self.rfile.read(length) if length > 0 else b""
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            started[:] = [status, headers]
            return lambda data: None   # the legacy write() callable is not used by werkzeug responses

        try:
            result = self.server.app(self._environ(body), start_response)
            try:
                payload = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except ResetConnection:
            self.close_connection = True
            self.server.mark_reset(self.connection)
            return
        status, headers = started
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for key, value in headers:
            if key.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(key, value)
        if int(code) not in (204, 304) and not 100 <= int(code) < 200:
            self.send_header("Content-Length", str(len(payload)))
        else:
            payload = b""
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)


class HTTPSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """Serves ``app`` over TLS on 127.0.0.1 and an ephemeral port; ``serve_forever`` in a thread."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, app: WSGIApp, ssl_context: ssl.SSLContext, host: str = "127.0.0.1", port: int = 0):
        self.app = app
        self.ssl_context = ssl_context
        self._resets: set[int] = set()
        self._resets_lock = threading.Lock()
        self._open: dict[int, Any] = {}       # live connections, closed by server_close()
        super().__init__((host, port), _Handler)

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self._resets_lock:
            self._open[id(conn)] = conn
        return conn, addr

    def server_close(self) -> None:
        """Stop listening and end every kept-alive connection, so a stopped simulator answers nothing."""
        super().server_close()
        with self._resets_lock:
            conns = list(self._open.values())
            self._open.clear()
        for conn in conns:
            try:
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass    # a client that went away mid-request is not the simulator's problem to print

    def mark_reset(self, sock: socket.socket) -> None:
        with self._resets_lock:
            self._resets.add(id(sock))

    def shutdown_request(self, request: Any) -> None:
        with self._resets_lock:
            reset = id(request) in self._resets
            self._resets.discard(id(request))
            self._open.pop(id(request), None)
        if not reset:
            super().shutdown_request(request)
            return
        try:
            request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            socket.socket.close(request)    # no shutdown(): with linger 0, close() sends RST instead of FIN
        except OSError:
            pass
