"""What every command gets: the group's flags, settings loaded on first use, the store as a context
manager, and the one way to end with an error line and an exit code.

Only click and the config are imported here: heavy modules load inside the commands that need them,
so that `tpmsync status` starts fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import click

from tpmsync.config import Settings, load_settings

if TYPE_CHECKING:
    from tpmsync.store.db import Store

EXIT_FAILURE = 1
EXIT_CONFIG = 2


class Context:
    """The flags of the `tpmsync` group; settings are loaded on first use."""

    def __init__(self, config: str | None, database_url: str | None, base_url: str | None) -> None:
        self.config_path = config
        self.database_url = database_url
        self.base_url = base_url
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path).with_overrides(
                database_url=self.database_url, base_url=self.base_url
            )
        return self._settings

    @contextmanager
    def open_store(self, *, migrate: bool = True) -> Iterator[Store]:
        """The store of the settings' database URL, disposed of on the way out."""
        from tpmsync.store.db import open_store

        store = open_store(self.settings.database_url, migrate=migrate)
        try:
            yield store
        finally:
            store.dispose()


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def print_rich(renderable: Any) -> None:
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        # a pipe or a file: no terminal to fit, so keep rows on one line unless COLUMNS says otherwise
        console = Console(width=int(os.environ.get("COLUMNS") or 160))
    console.print(renderable)
