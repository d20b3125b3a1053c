"""What every delivery channel shares: errors, the prepared payload, the channel interface, the
reader that validates a `[channels.NAME]` table, and the runtime one delivery run hands around.

A channel works in two steps so that `--dry-run` shows exactly what `--post` sends:

- `prepare(outgoing)` builds the payload(s) — URL, headers, body — with every secret masked
  (secrets are read only when sending, so a dry run needs none of them);
- `send(prepared)` reads the secrets, sends, and returns the channel's id for the ledger, or
  raises `TransientDeliveryError` (retry later) or `PermanentDeliveryError` (marked failed).
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from tpmsync import words
from tpmsync.config import ConfigError, Settings, unknown_key
from tpmsync.deliver.outgoing import Outgoing
from tpmsync.errors import TpmsyncError

if TYPE_CHECKING:
    import requests

    from tpmsync.asana.client import AsanaClient

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MASK = "***"


class DeliveryError(TpmsyncError):
    """A send that did not happen; the message is one line and never contains a secret."""


class TransientDeliveryError(DeliveryError):
    """Worth retrying: 429, 5xx, connection errors, SMTP 4xx. `wait` is a server-requested delay."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help (401, 403, 404, other 4xx, a refused address): marked failed."""


@dataclass(frozen=True)
class Prepared:
    """One message to one target of a channel, exactly as it will be sent.

    `destination` says where it goes (secret URLs masked), `headers` are the headers sent (secret
    ones masked), `body` is the body text sent byte for byte (email and file bodies elide binary
    images, see docs/delivery.md). `payload` is the channel's own form of it for `send`.
    """

    channel: str
    target: str  # "" for channels that take the whole report; the project gid for Asana
    destination: str
    headers: Mapping[str, str]
    body: str
    title: str = ""
    payload: Any = field(default=None, repr=False, compare=False)

    def preview(self) -> str:
        """What `--dry-run` prints for this message."""
        lines = [self.destination]
        lines.extend(f"{name}: {value}" for name, value in self.headers.items())
        return "\n".join(lines) + "\n\n" + self.body


def delivery_id(outgoing: Outgoing, channel: str, target: str) -> str:
    """A stable id of (kind, period, scope, channel, target), sent as `X-Tpmsync-Delivery` so that a
    receiver can drop a duplicate of a send whose outcome tpmsync could not know."""
    key = "\n".join((outgoing.kind, outgoing.period, outgoing.scope, channel, target))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def mask_url(url: str) -> str:
    """`https://hooks.slack.com/***`: scheme and host only; the path and query may hold the secret."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}/{MASK}"


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, ending in … when cut."""
    return words.shorten(text, limit)


def one_line(text: str, limit: int = 200) -> str:
    return words.one_line(text, limit)


def health_label(health: str) -> str:
    return words.health_label(health)


def health_counts(outgoing: Outgoing) -> str:
    """e.g. "3 red · 2 amber · 1 green" (zero counts left out)."""
    return words.health_counts([line.health for line in outgoing.projects], " · ")


def shown_url(url: str | None, variable: str) -> str:
    """How a secret URL appears in a dry run."""
    if not url:
        return f"${variable} (not set)"
    return f"{mask_url(url)} (from ${variable})"


def report_url_template(table: ChannelTable) -> str | None:
    template = table.string("report_url")
    if template is None:
        return None
    try:
        table.url("report_url", template.format(kind="daily", period="2026-11-25", scope="portfolio"))
    except (KeyError, IndexError, ValueError) as exc:
        raise table.fail("report_url", "may use only {kind}, {period} and {scope} as fields to fill in") from exc
    return template


def fill_report_url(template: str | None, outgoing: Outgoing) -> str | None:
    if template is None:
        return None
    return template.format(kind=outgoing.kind, period=outgoing.period, scope=outgoing.scope)


class Runtime:
    """What the channels of one delivery run share: the environment, the sleep and random source
    of the retry policy, one HTTP session and one Asana client (both made on first use).
    `close` releases them."""

    def __init__(
        self,
        settings: Settings,
        *,
        env: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        client_factory: Callable[[], AsanaClient] | None = None,
    ) -> None:
        self.settings = settings
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.sleep = sleep
        self.rng = rng or random.Random()
        self._client_factory = client_factory
        self._session: requests.Session | None = None
        self._client: AsanaClient | None = None

    def session(self) -> requests.Session:
        if self._session is None:
            import requests

            from tpmsync import __version__

            self._session = requests.Session()
            self._session.headers["User-Agent"] = f"tpmsync/{__version__}"
        return self._session

    def asana(self) -> AsanaClient:
        if self._client is None:
            if self._client_factory is not None:
                self._client = self._client_factory()
            else:
                from tpmsync.asana.client import AsanaClient

                self._client = AsanaClient(self.settings.asana, sleep=self.sleep, rng=self.rng)
        return self._client

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._client is not None:
            self._client.close()
            self._client = None


class ChannelTable:
    """Typed access to one `[channels.NAME]` table; every problem is a one-line `ConfigError` that
    names `channels.NAME.key` and the config file."""

    def __init__(self, name: str, raw: Mapping[str, Any], where: str, env: Mapping[str, str]) -> None:
        self.name = name
        self.raw = raw
        self.where = where
        self.env = env

    def key(self, key: str) -> str:
        return f"channels.{self.name}.{key}"

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.where}: {self.key(key)} {message}")

    def check_known(self, allowed: frozenset[str]) -> None:
        for key in self.raw:
            if key == "type" or key in allowed:
                continue
            if f"{key}_env" in allowed:
                raise self.fail(
                    key,
                    f"must not be written in the file; put it in an environment variable and name that "
                    f"variable with {self.key(key + '_env')}",
                )
            known = allowed | {"type"}
            raise unknown_key(self.where, f"channels.{self.name}", key, known,
                              expected=f"a {self.raw.get('type')} channel has {', '.join(sorted(known))}")

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                raise self.fail(key, "is missing; it is required for this channel type")
            return default
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string, got {value!r}")
        return value.strip()

    def required_string(self, key: str) -> str:
        value = self.string(key, required=True)
        assert value is not None
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value

    def integer(self, key: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum or (
            maximum is not None and value > maximum
        ):
            bound = f"from {minimum} to {maximum}" if maximum is not None else f"≥ {minimum}"
            raise self.fail(key, f"must be a whole number {bound}, got {value!r}")
        return value

    def number(self, key: str, default: float, *, minimum: float) -> float:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, int | float) or isinstance(value, bool) or value < minimum:
            raise self.fail(key, f"must be a number ≥ {minimum:g}, got {value!r}")
        return float(value)

    def strings(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        value = self.raw.get(key)
        if value is None:
            if required:
                raise self.fail(key, "is missing; it is required for this channel type")
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(key, f"must be a string or a list of strings, got {value!r}")
        if required and not value:
            raise self.fail(key, "must not be empty")
        return tuple(v.strip() for v in value)

    def env_name(self, key: str, *, required: bool = False) -> str | None:
        """The name of an environment variable (not its value, which is read only when sending)."""
        value = self.string(key, required=required)
        if value is not None and not ENV_NAME.match(value):
            raise self.fail(key, f"must name an environment variable such as SLACK_WEBHOOK_URL, got {value!r}")
        return value

    def secret(self, key: str, variable: str) -> str:
        value = self.env.get(variable)
        if not value:
            raise self.fail(key, f"names ${variable}, which is not set in the environment; export it before --post")
        return value

    def url(self, key: str, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.fail(key, "must be an http:// or https:// URL")
        return value


class Channel(ABC):
    """One configured channel. Subclasses set `type` and `keys` and validate in `configure`."""

    type: ClassVar[str]
    keys: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, name: str, table: ChannelTable, runtime: Runtime) -> None:
        self.name = name
        self.table = table
        self.runtime = runtime
        table.check_known(self.keys)
        self.configure(table)

    def configure(self, table: ChannelTable) -> None:  # noqa: B027 - optional hook
        """Read and validate the table's keys (raise `ConfigError`)."""

    def check_ready(self) -> None:  # noqa: B027 - optional hook
        """Raise `ConfigError` when a secret needed to send is missing from the environment."""

    @abstractmethod
    def prepare(self, outgoing: Outgoing) -> list[Prepared]:
        """The messages this channel sends for `outgoing`, secrets masked; no I/O."""

    @abstractmethod
    def send(self, prepared: Prepared) -> str:
        """Send one prepared message; return the channel's id of it (Asana gid, Slack "ok", …)."""

    def recover(self, prepared: Prepared) -> str | None:
        """After an attempt whose outcome is unknown (a crash, a timeout after the request went
        out): the id of that message if the channel can see it was delivered, else None.
        Only channels that can look (Asana) override this."""
        return None
