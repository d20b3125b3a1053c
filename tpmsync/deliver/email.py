"""Email over SMTP: STARTTLS (`starttls = true`), implicit TLS (`ssl = true`) or plain (a local
relay), login from `username_env`/`password_env`, certificates checked against the system store or
`ca_file`.

The message (the structure the `email` package documents for HTML mail with pictures):

    multipart/mixed
    ├── multipart/alternative
    │   ├── text/plain        Outgoing.summary_text: the HTML part's lead (the portfolio, the
    │   │                     red and amber projects' written status, the others a line each)
    │   └── multipart/related
    │       ├── text/html     Outgoing.html: the summary (< 100 KB, so Gmail does not clip it),
    │       │                 charts referenced as cid:NAME
    │       └── image/png …   one per Outgoing.images entry, Content-ID <NAME>, inline
    └── text/html             Outgoing.html_inline, the full report, as an attachment

Subject is `Outgoing.subject`; headers add `Auto-Submitted: auto-generated` and
`X-Tpmsync-Delivery`. The ledger's id is the Message-ID.

Permanent: a refused login (5xx), every recipient refused (5xx), other 5xx replies, a server
without STARTTLS or AUTH, a certificate that does not verify. Transient: connection errors,
timeouts, a dropped connection and 4xx replies (greylisting, "try again later").
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import ClassVar

from tpmsync.deliver.base import (
    Channel,
    ChannelTable,
    PermanentDeliveryError,
    Prepared,
    TransientDeliveryError,
    delivery_id,
    one_line,
)
from tpmsync.deliver.outgoing import Outgoing
from tpmsync.deliver.transport import with_retries
from tpmsync.retry import RetryPolicy


def _address(table: ChannelTable, key: str, value: str) -> str:
    address = parseaddr(value)[1]
    local, _, domain = address.rpartition("@")
    if not local or "." not in domain or any(c.isspace() for c in address):
        raise table.fail(key, f"must hold email addresses such as cto@example.com, got {value!r}")
    return address


def build_message(outgoing: Outgoing, *, sender: str, to: tuple[str, ...], cc: tuple[str, ...],
                  delivery: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = outgoing.subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid("tpmsync", domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Tpmsync-Delivery"] = delivery
    message.set_content(outgoing.summary_text)
    message.add_alternative(outgoing.html, subtype="html")
    if outgoing.images:
        parts = message.get_payload()
        assert isinstance(parts, list)
        html = parts[1]
        assert isinstance(html, EmailMessage)
        for name, png in outgoing.images.items():
            html.add_related(png, maintype="image", subtype="png", cid=f"<{name}>", disposition="inline",
                             filename=f"{name}.png")
    if outgoing.html_inline:
        message.add_attachment(outgoing.html_inline, subtype="html", filename=outgoing.attachment_name)
    return message


def describe(message: EmailMessage) -> str:
    """The message body as a dry run shows it: every part with its type, text parts in full,
    images and attachments as a line with their Content-ID or file name and size."""
    lines: list[str] = []

    def walk(part: EmailMessage, depth: int) -> None:
        indent = "  " * depth
        ctype = part.get_content_type()
        if part.is_multipart():
            lines.append(f"{indent}--- {ctype}")
            for sub in part.iter_parts():
                assert isinstance(sub, EmailMessage)
                walk(sub, depth + 1)
        elif part.get_content_disposition() == "attachment":
            data = part.get_payload(decode=True)
            size = len(data) if isinstance(data, bytes) else 0
            lines.append(f"{indent}--- {ctype}; attachment {part.get_filename()} ({size:,} bytes)")
        elif part.get_content_maintype() == "text":
            lines.append(f"{indent}--- {ctype}; charset={part.get_content_charset()}")
            lines.append(str(part.get_content()).rstrip("\n"))
        else:
            data = part.get_payload(decode=True)
            size = len(data) if isinstance(data, bytes) else 0
            lines.append(f"{indent}--- {ctype}; Content-ID: {part['Content-ID']}; {part.get_content_disposition()} "
                         f"({size:,} bytes, base64 in the message)")

    walk(message, 0)
    return "\n".join(lines)


class EmailChannel(Channel):
    """`to` (required), `cc`, `from` (required), `smtp_host` (required), `smtp_port` (default 587
    with STARTTLS, 465 with SSL, else 25), `starttls`, `ssl`, `username_env` + `password_env`,
    `ca_file`, `timeout_seconds` (default 30), `max_retries` (default 2)."""

    type = "email"
    keys: ClassVar[frozenset[str]] = frozenset(
        {"to", "cc", "from", "smtp_host", "smtp_port", "starttls", "ssl", "username_env", "password_env",
         "ca_file", "timeout_seconds", "max_retries"}
    )

    def configure(self, table: ChannelTable) -> None:
        self.to = table.strings("to", required=True)
        self.cc = table.strings("cc")
        self.recipients = tuple(_address(table, key, v) for key, values in (("to", self.to), ("cc", self.cc))
                                for v in values)
        self.sender = table.required_string("from")
        self.sender_address = _address(table, "from", self.sender)
        self.host = table.required_string("smtp_host")
        self.starttls = table.boolean("starttls", False)
        self.ssl = table.boolean("ssl", False)
        if self.starttls and self.ssl:
            raise table.fail("ssl", "and starttls exclude each other: ssl for port 465, starttls for 587")
        default_port = 465 if self.ssl else 587 if self.starttls else 25
        self.port = table.integer("smtp_port", default_port, minimum=1, maximum=65535)
        self.username_env = table.env_name("username_env")
        self.password_env = table.env_name("password_env")
        if (self.username_env is None) != (self.password_env is None):
            missing = "password_env" if self.password_env is None else "username_env"
            raise table.fail(missing, "is missing; set username_env and password_env together, or neither")
        self.ca_file = table.string("ca_file")
        self.policy = RetryPolicy(
            max_retries=table.integer("max_retries", 2, minimum=0, maximum=10),
            timeout_seconds=table.number("timeout_seconds", 30.0, minimum=0.1),
        )

    def check_ready(self) -> None:
        if self.username_env and self.password_env:
            self.table.secret("username_env", self.username_env)
            self.table.secret("password_env", self.password_env)

    def _security(self) -> str:
        mode = "SSL" if self.ssl else "STARTTLS" if self.starttls else "no TLS"
        login = f", login as ${self.username_env}" if self.username_env else ""
        return f"{mode}{login}"

    def prepare(self, outgoing: Outgoing) -> list[Prepared]:
        message = build_message(outgoing, sender=self.sender, to=self.to, cc=self.cc,
                                delivery=delivery_id(outgoing, self.name, ""))
        return [
            Prepared(
                channel=self.name,
                target="",
                destination=f"SMTP {self.host}:{self.port} ({self._security()}) → {', '.join(self.recipients)}",
                headers={name: str(value) for name, value in message.items()},
                body=describe(message),
                payload=message,
            )
        ]

    def _context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise PermanentDeliveryError(f"channel {self.name}: ca_file {self.ca_file} cannot be used ({exc})") from exc

    def _connect(self) -> smtplib.SMTP:
        timeout = self.policy.timeout_seconds
        if self.ssl:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=self._context())
        return smtplib.SMTP(self.host, self.port, timeout=timeout)

    def send(self, prepared: Prepared) -> str:
        message: EmailMessage = prepared.payload
        credentials: tuple[str, str] | None = None
        if self.username_env and self.password_env:
            credentials = (self.table.secret("username_env", self.username_env),
                           self.table.secret("password_env", self.password_env))

        def attempt() -> str:
            return self._attempt(message, credentials)

        return with_retries(attempt, self.policy, sleep=self.runtime.sleep, rng=self.runtime.rng)

    def _attempt(self, message: EmailMessage, credentials: tuple[str, str] | None) -> str:
        what = f"channel {self.name}: SMTP {self.host}:{self.port}"
        try:
            with self._connect() as smtp:
                if self.starttls:
                    smtp.starttls(context=self._context())
                if credentials is not None:
                    smtp.login(*credentials)
                smtp.send_message(message, from_addr=self.sender_address, to_addrs=list(self.recipients))
        except smtplib.SMTPAuthenticationError as exc:
            raise _by_code(exc.smtp_code, f"{what} refused the login ({_reply(exc)}); check "
                                          f"${self.username_env} and ${self.password_env}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            refused = "; ".join(f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in exc.recipients.items())
            code = min((code for code, _ in exc.recipients.values()), default=550)
            raise _by_code(code, f"{what} refused every recipient ({one_line(refused, 300)})") from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentDeliveryError(f"{what} does not support it: {exc}; check starttls, ssl and the login")\
                from exc
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, f"{what} answered {_reply(exc)}") from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise TransientDeliveryError(f"{what} closed the connection ({one_line(str(exc), 120)})") from exc
        except ssl.SSLCertVerificationError as exc:
            raise PermanentDeliveryError(f"{what}: the server certificate does not verify "
                                         f"({exc.verify_message}); set ca_file or fix the host name") from exc
        except smtplib.SMTPException as exc:
            raise PermanentDeliveryError(f"{what}: {one_line(str(exc), 200)}") from exc
        except OSError as exc:
            raise TransientDeliveryError(f"{what} cannot be reached ({type(exc).__name__}: "
                                         f"{one_line(str(exc), 120)})") from exc
        return str(message["Message-ID"])


def _text(raw: bytes | str) -> str:
    return one_line(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw), 160)


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_text(exc.smtp_error)}"


def _by_code(code: int, message: str) -> TransientDeliveryError | PermanentDeliveryError:
    """SMTP 4xx: try again later; anything else: permanent."""
    make: Callable[[str], TransientDeliveryError | PermanentDeliveryError] = (
        TransientDeliveryError if 400 <= code < 500 else PermanentDeliveryError
    )
    return make(message)
