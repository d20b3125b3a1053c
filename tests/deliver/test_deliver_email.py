"""Email against a real SMTP server on loopback (aiosmtpd): the received message is parsed back —
multipart, the HTML part, the inline chart its HTML references, the subject with the verdict —
over plain SMTP with AUTH, STARTTLS and implicit TLS; refusals and outages map to failed/pending."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from deliver_support import Sleeps, make_settings, tiny_png

from tpmsync.config import ConfigError
from tpmsync.deliver.outgoing import Outgoing
from tpmsync.deliver.service import DeliveryResult, deliver
from tpmsync.store.db import Store

ENV = {"SMTP_USER": "bot", "SMTP_PASSWORD": "pa55-w0rd"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it receives; `rcpt_reply` refuses recipients."""

    received: list[Received] = field(default_factory=list)
    rcpt_reply: str | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"bot", b"pa55-w0rd")
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd itself answers 535


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the channel trusts it through `ca_file`)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def smtp() -> Iterator[Callable[..., tuple[Inbox, int]]]:
    """`smtp(**controller_kwargs)` → (inbox, port) of a running server; all stopped at teardown."""
    running: list[Controller] = []

    def start(**kwargs: Any) -> tuple[Inbox, int]:
        inbox, port = Inbox(), free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        running.append(controller)
        return inbox, port

    yield start
    for controller in running:
        controller.stop()


def channel(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "email",
        "to": ["cto@example.com", "Lead Dev <lead@example.com>"],
        "cc": "pm@example.com",
        "from": "tpmsync <tpmsync@example.com>",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "username_env": "SMTP_USER",
        "password_env": "SMTP_PASSWORD",
        "timeout_seconds": 5,
        **extra,
    }


def send(store: Store, outgoing: Outgoing, table: dict[str, Any], sleeps: Sleeps, **kwargs: Any) -> DeliveryResult:
    [result] = deliver(store, make_settings({"stakeholders": table}), outgoing, channels=["stakeholders"],
                       env=kwargs.pop("env", ENV), sleep=sleeps, **kwargs)
    return result


def check_report_mail(received: Received, outgoing: Outgoing, result: DeliveryResult) -> None:
    message = received.message
    assert received.mail_from == "tpmsync@example.com"
    assert received.rcpt_tos == ["cto@example.com", "lead@example.com", "pm@example.com"]
    assert message["Subject"] == outgoing.subject and "RED" in message["Subject"]
    assert message["Message-ID"] == result.external_id
    assert message["To"] == "cto@example.com, Lead Dev <lead@example.com>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/mixed"
    alternative, attached = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert attached.get_content_disposition() == "attachment" and attached.get_content_type() == "text/html"
    assert attached.get_filename() == outgoing.attachment_name
    assert attached.get_content().replace("\r\n", "\n").rstrip("\n") == outgoing.html_inline
    text, related = alternative.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert text.get_content().replace("\r\n", "\n").rstrip("\n") == outgoing.summary_text
    assert related.get_content_type() == "multipart/related"
    html, image = related.iter_parts()
    assert html.get_content_type() == "text/html"
    assert image.get_content_type() == "image/png"
    assert image["Content-ID"] == "<burndown>" and image.get_content_disposition() == "inline"
    assert image.get_content() == tiny_png()
    assert 'src="cid:burndown"' in html.get_content()
    body = message.get_body(preferencelist=("html",))
    assert body is not None and body.get_content_type() == "text/html"


def test_email_over_smtp_with_login_arrives_as_multipart_with_an_inline_chart(
    sqlite_store: Store, outgoing: Outgoing, smtp: Callable[..., tuple[Inbox, int]], sleeps: Sleeps
) -> None:
    inbox, port = smtp(authenticator=authenticator, auth_require_tls=False)
    result = send(sqlite_store, outgoing, channel(port), sleeps)
    assert result.status == "sent"
    [received] = inbox.received
    check_report_mail(received, outgoing, result)
    assert send(sqlite_store, outgoing, channel(port), sleeps).status == "skipped"
    assert len(inbox.received) == 1


def test_email_with_starttls_and_login(
    sqlite_store: Store, outgoing: Outgoing, smtp: Callable[..., tuple[Inbox, int]], sleeps: Sleeps,
    certificate: tuple[Path, Path],
) -> None:
    inbox, port = smtp(tls_context=server_context(certificate), require_starttls=True,
                       authenticator=authenticator, auth_require_tls=True)
    table = channel(port, starttls=True, ca_file=str(certificate[0]))
    result = send(sqlite_store, outgoing, table, sleeps)
    assert result.status == "sent", result.error
    check_report_mail(inbox.received[0], outgoing, result)


def test_email_over_implicit_tls(
    sqlite_store: Store, outgoing: Outgoing, smtp: Callable[..., tuple[Inbox, int]], sleeps: Sleeps,
    certificate: tuple[Path, Path],
) -> None:
    # over implicit TLS aiosmtpd does not know the line is encrypted, so AUTH must be allowed "without" it
    inbox, port = smtp(ssl_context=server_context(certificate), authenticator=authenticator, auth_require_tls=False)
    result = send(sqlite_store, outgoing, channel(port, ssl=True, ca_file=str(certificate[0])), sleeps)
    assert result.status == "sent", result.error
    check_report_mail(inbox.received[0], outgoing, result)


def test_an_untrusted_certificate_is_a_permanent_failure(
    sqlite_store: Store, outgoing: Outgoing, smtp: Callable[..., tuple[Inbox, int]], sleeps: Sleeps,
    certificate: tuple[Path, Path],
) -> None:
    inbox, port = smtp(tls_context=server_context(certificate), require_starttls=True)
    result = send(sqlite_store, outgoing, channel(port, starttls=True), sleeps)
    assert result.status == "failed" and inbox.received == []
    assert result.error is not None and "certificate" in result.error


def test_a_refused_login_is_permanent_and_never_shows_the_password(
    sqlite_store: Store, outgoing: Outgoing, smtp: Callable[..., tuple[Inbox, int]], sleeps: Sleeps
) -> None:
    inbox, port = smtp(authenticator=authenticator, auth_require_tls=False)
    result = send(sqlite_store, outgoing, channel(port), sleeps, env={**ENV, "SMTP_PASSWORD": "wrong"})
    assert result.status == "failed" and inbox.received == [] and sleeps.waits == []
    assert result.error is not None and "535" in result.error and "$SMTP_PASSWORD" in result.error
    assert "wrong" not in result.error


def test_refused_recipients_fail_permanently_on_5xx(
    sqlite_store: Store, outgoing: Outgoing, smtp: Callable[..., tuple[Inbox, int]], sleeps: Sleeps
) -> None:
    inbox, port = smtp()
    inbox.rcpt_reply = "550 5.1.1 No such user"
    table = {k: v for k, v in channel(port).items() if k not in ("username_env", "password_env")}
    result = send(sqlite_store, outgoing, table, sleeps)
    assert result.status == "failed" and sleeps.waits == []
    assert result.error is not None and "cto@example.com: 550" in result.error


def test_a_4xx_reply_is_retried_and_left_pending(
    sqlite_store: Store, outgoing: Outgoing, smtp: Callable[..., tuple[Inbox, int]], sleeps: Sleeps
) -> None:
    inbox, port = smtp()
    inbox.rcpt_reply = "450 4.2.0 Greylisted, try again later"
    table = {k: v for k, v in channel(port).items() if k not in ("username_env", "password_env")}
    result = send(sqlite_store, outgoing, table, sleeps)
    assert result.status == "pending" and len(sleeps.waits) == 2  # 2 retries by default
    inbox.rcpt_reply = None
    later = send(sqlite_store, outgoing, table, sleeps)
    assert (later.status, later.attempts) == ("sent", 2) and len(inbox.received) == 1


def test_no_server_listening_is_transient(sqlite_store: Store, outgoing: Outgoing, sleeps: Sleeps) -> None:
    result = send(sqlite_store, outgoing, channel(free_port(), max_retries=0), sleeps)
    assert result.status == "pending"
    assert result.error is not None and "cannot be reached" in result.error


def test_missing_credentials_are_a_config_error_before_sending(
    sqlite_store: Store, outgoing: Outgoing, sleeps: Sleeps
) -> None:
    with pytest.raises(ConfigError, match=r"channels\.stakeholders\.password_env names \$SMTP_PASSWORD"):
        send(sqlite_store, outgoing, channel(25), sleeps, env={"SMTP_USER": "bot"})


def test_dry_run_shows_headers_parts_and_images_without_sending(
    sqlite_store: Store, outgoing: Outgoing, sleeps: Sleeps
) -> None:
    result = send(sqlite_store, outgoing, channel(2525, starttls=True), sleeps, dry_run=True, env={})
    assert result.status == "dry-run" and result.preview is not None
    preview = result.preview
    first = preview.splitlines()[0]
    assert first == ("SMTP 127.0.0.1:2525 (STARTTLS, login as $SMTP_USER) → cto@example.com, lead@example.com, "
                     "pm@example.com")
    assert f"Subject: {outgoing.subject}" in preview
    assert "--- multipart/alternative" in preview and "    --- text/html; charset=utf-8" in preview
    assert "--- image/png; Content-ID: <burndown>; inline (" in preview
