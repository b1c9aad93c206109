"""A tiny HTTP server on 127.0.0.1 for step-kind tests: canned routes, run in a thread."""
from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.server.requests.append(("GET", self.path, dict(self.headers), b""))
        if self.path == "/json":
            self._send(200, b'{"greeting": "hello"}')
        elif self.path == "/text":
            self._send(200, "héllo".encode(), "text/plain; charset=utf-8")
        elif self.path == "/broken":
            self._send(503, b'{"error": "down"}')
        elif self.path == "/redirect":
            self._send(302, b"", headers={"Location": "http://example.com/"})
        elif self.path == "/slow":
            time.sleep(2)
            self._send(200, b"{}")
        elif self.path == "/odd-charset":
            self._send(200, b"ok", "text/plain; charset=no-such-charset")
        elif self.path == "/huge":
            self._send(200, b"x" * (1024 * 1024 + 10), "text/plain")
        else:
            self._send(404, b"{}")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append(("POST", self.path, dict(self.headers), body))
        if self.path == "/v1/chat/completions":
            request = json.loads(body)
            answer = {"choices": [{"message": {"role": "assistant", "content": "remote answer"}}],
                      "usage": {"prompt_tokens": 1200, "completion_tokens": 300}, "model": request["model"]}
            self._send(200, json.dumps(answer).encode())
        else:
            self._send(201, json.dumps({"echo": json.loads(body or b"null")}).encode())


@contextmanager
def local_http_server():
    """Yields ``(base_url, server)``; ``server.requests`` lists what it received."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
