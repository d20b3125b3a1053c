"""The channel types and `load_channels`, which validates every `[channels.NAME]` table.

A table names its `type` and that type's keys; secrets are never in the file but named by the
environment variable holding them (`*_env` keys), read only when sending. See docs/delivery.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from tpmsync.config import ConfigError, Settings
from tpmsync.deliver.asana_status import AsanaStatusChannel
from tpmsync.deliver.base import Channel, ChannelTable, Runtime
from tpmsync.deliver.email import EmailChannel
from tpmsync.deliver.file import FileChannel
from tpmsync.deliver.slack import SlackChannel
from tpmsync.deliver.teams import TeamsChannel
from tpmsync.deliver.webhook import WebhookChannel

CHANNEL_TYPES: dict[str, type[Channel]] = {
    kind.type: kind
    for kind in (AsanaStatusChannel, SlackChannel, TeamsChannel, EmailChannel, WebhookChannel, FileChannel)
}
MAX_NAME = 128


def load_channels(
    settings: Settings, *, env: Mapping[str, str] | None = None, runtime: Runtime | None = None
) -> dict[str, Channel]:
    """Every configured channel by name, validated; a bad table raises `ConfigError` with one line
    naming `channels.NAME.key` and `settings.source`. Secrets are checked by `Channel.check_ready`
    (before sending), not here, so that `--dry-run` and `tpmsync doctor` work without them."""
    runtime = runtime or Runtime(settings, env=env)
    loaded: dict[str, Channel] = {}
    for name, raw in settings.channels.items():
        table = ChannelTable(name, raw, settings.source, runtime.env)
        if len(name) > MAX_NAME:
            raise ConfigError(
                f"{settings.source}: [channels.{name[:40]}…] has a name longer than {MAX_NAME} characters"
            )
        kind = raw.get("type")
        known = ", ".join(CHANNEL_TYPES)
        if kind is None:
            raise table.fail("type", f"is missing; one of {known}")
        if not isinstance(kind, str) or kind not in CHANNEL_TYPES:
            raise table.fail("type", f"must be one of {known}, got {kind!r}")
        loaded[name] = CHANNEL_TYPES[kind](name, table, runtime)
    return loaded


def select_channels(settings: Settings, names: list[str] | None) -> list[str]:
    """`names` checked against the config; None or empty means every configured channel."""
    configured = list(settings.channels)
    if not names:
        if not configured:
            raise ConfigError(
                f"{settings.source}: no delivery channels; add a [channels.NAME] table (see docs/delivery.md)"
            )
        return configured
    for name in names:
        if name not in settings.channels:
            have = ", ".join(configured) if configured else "none"
            raise ConfigError(f"{settings.source}: no channel named {name!r}; configured channels: {have}")
    return list(dict.fromkeys(names))
