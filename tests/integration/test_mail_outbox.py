"""Mail goes by SMTP when MAIL_URL is set and always lands in the outbox; a dead server loses nothing."""
import re
import socket
import socketserver
import threading

import pytest

from webapp.extensions import db as database
from webapp.mail.models import OutboxMail


class SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greet, accept one message per DATA, remember it."""

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 test ready")
        for _ in range(50):
            line = self.rfile.readline().decode(errors="replace").strip()
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                body = []
                for _ in range(1000):
                    data = self.rfile.readline().decode(errors="replace")
                    if data.rstrip("\r\n") == ".":
                        break
                    body.append(data)
                self.server.messages.append("".join(body))
                self.reply("250 queued")
            elif verb == "QUIT" or not line:
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpHandler)
    server.daemon_threads = True
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def register(client):
    return client.post("/api/v3/auth/register", json={"email": "mail.me@example.com", "password": "a fine passphrase"})


def test_with_mail_url_the_verification_mail_is_sent_and_recorded(app, client, monkeypatch, smtp_server):
    monkeypatch.setitem(app.config, "REGISTRATION_MODE", "verify")
    monkeypatch.setitem(app.config, "MAIL_URL", f"smtp://127.0.0.1:{smtp_server.server_address[1]}")
    assert register(client).status_code == 202
    [message] = smtp_server.messages
    assert "To: mail.me@example.com" in message and re.search(r"/verify-email/\S+", message)
    [row] = database.session.query(OutboxMail).all()
    assert row.sent_at is not None and row.error is None


def test_an_unreachable_mail_server_keeps_the_mail_in_the_outbox(app, client, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once the socket closes
    monkeypatch.setitem(app.config, "REGISTRATION_MODE", "verify")
    monkeypatch.setitem(app.config, "MAIL_URL", f"smtp://127.0.0.1:{port}")
    assert register(client).status_code == 202
    [row] = database.session.query(OutboxMail).all()
    assert row.sent_at is None and row.error == "ConnectionRefusedError"
