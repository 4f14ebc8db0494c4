"""`rtrec ui`'s HTTP server: the standard library's threading server, and its access rule.

The rule is `record`'s (`AccessPolicy`): loopback needs nothing, any other address a
token (header `X-Rtrec-Auth`, query `rtrec_token`, or the cookie a browser gets after
presenting the token once in the query) or an explicit `--insecure-no-auth`.  On
loopback without a token the Host header must name this machine, so that a web page
elsewhere cannot read the sessions through DNS rebinding.  The socket is set up in
`bind` alone (the place to add TLS).
"""

from __future__ import annotations

import socket
import ssl
import sys
import threading
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

from rtrec.access import TOKEN_HEADER, TOKEN_QUERY, AccessPolicy
from rtrec.net import is_loopback_host
from rtrec.ui.app import Response, UiApp, text_response
from rtrec.ui.mixes import MixCache

DEFAULT_LISTEN = "127.0.0.1:8766"
COOKIE = "rtrec_token"
_SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
]


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    ui: UiServer

    def handle_error(self, request: object, client_address: object) -> None:
        # A browser dropping a kept-alive connection is normal; anything else is one line.
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError, ssl.SSLError)):
            return
        print(f"rtrec ui: {type(error).__name__}: {error}", file=sys.stderr)


def bind(host: str, port: int, ssl_context: ssl.SSLContext | None = None) -> _HttpServer:
    """The listening server (IPv4 or IPv6 by the host's form); TLS when given a context."""
    _HttpServer.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
    httpd = _HttpServer((host, port), _Handler)
    if ssl_context is not None:
        # The handshake happens in the request's own thread, at its first read: a
        # client that stalls in it holds up only itself, not the accepting loop.
        httpd.socket = ssl_context.wrap_socket(
            httpd.socket, server_side=True, do_handshake_on_connect=False
        )
    return httpd


class UiServer:
    def __init__(
        self,
        db_path: str,
        host: str,
        port: int,
        policy: AccessPolicy,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.policy = policy
        self.mixes = MixCache(db_path)
        self.app = UiApp(db_path, self.mixes)
        self.httpd = bind(host, port, ssl_context)
        self.httpd.ui = self
        self.host = host
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if ssl_context is not None else "http"
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}/"

    def host_allowed(self, host_header: str | None) -> bool:
        if self.policy.token is not None or not is_loopback_host(self.host):
            return True
        if not host_header:
            return False
        name = host_header.strip().lower()
        name = name.rsplit(":", 1)[0] if not name.endswith("]") else name
        return name.strip("[]") in ("localhost", "127.0.0.1", "::1", self.host.lower())

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.25)

    def start(self) -> None:
        """Serve from a thread of its own (tests, embedding)."""
        self._thread = threading.Thread(target=self.serve_forever, name="rtrec-ui", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.mixes.close()
        if self._thread is not None:
            self._thread.join()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "rtrec-ui"
    server: _HttpServer

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _refuse_method(self) -> None:
        self._send(text_response(405, "rtrec ui only reads"), True, [("Allow", "GET, HEAD")])

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse_method

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: one line per request would drown the terminal

    def _serve(self, *, send_body: bool) -> None:
        ui = self.server.ui
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        if not ui.host_allowed(self.headers.get("Host")):
            self._send(text_response(403, "rtrec ui: unexpected Host header"), send_body)
            return
        if ui.policy.token is not None:
            presented = self.headers.get(TOKEN_HEADER) or self._cookie()
            if not ui.policy.allows(presented, url.query):
                self._send(
                    text_response(
                        401, f"rtrec ui: open this address with ?{TOKEN_QUERY}=TOKEN once"
                    ),
                    send_body,
                )
                return
            if TOKEN_QUERY in query:
                # Keep the token out of the address bar and history: a cookie carries it.
                token = query.pop(TOKEN_QUERY)
                location = url.path + ("?" + urlencode(query) if query else "")
                cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
                self._send(
                    Response(303, headers=[("Location", location), ("Set-Cookie", cookie)]),
                    send_body,
                )
                return
        try:
            response = ui.app.handle(url.path, query, self.headers.get("Range"))
        except Exception as exc:  # a bug: say so in one line, answer 500, keep serving
            print(
                f"rtrec ui: internal error on {url.path}: {type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
            response = text_response(500, "rtrec ui: internal error")
        self._send(response, send_body)

    def _cookie(self) -> str | None:
        header = self.headers.get("Cookie")
        if not header:
            return None
        try:
            morsel = SimpleCookie(header).get(COOKIE)
        except CookieError:
            return None
        return morsel.value if morsel is not None else None

    def _send(
        self, response: Response, send_body: bool, extra: list[tuple[str, str]] | None = None
    ) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            if not any(name == "Cache-Control" for name, _ in response.headers):
                self.send_header("Cache-Control", "no-store")
            for name, value in [*_SECURITY_HEADERS, *response.headers, *(extra or [])]:
                self.send_header(name, value)
            self.end_headers()
            if send_body:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
