"""File: the report written to a directory, for wikis and archives.

`{path}/{kind}-{period}-{scope}.{ext}` for each of `formats` (default md, html, json; txt on
request): Markdown, the HTML document with its charts inlined as data: URIs, the JSON report, the
plain text. Each file is written atomically (a temporary file in the same directory, flushed, then
renamed over the old one), so a reader never sees half a report. A relative `path` is relative to
the working directory, like `database.url`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import ClassVar

from tpmsync.deliver.base import (
    Channel,
    ChannelTable,
    PermanentDeliveryError,
    Prepared,
    TransientDeliveryError,
)
from tpmsync.deliver.outgoing import Outgoing
from tpmsync.deliver.transport import json_body

FORMATS = ("md", "html", "json", "txt")
DEFAULT_FORMATS = ("md", "html", "json")
DATA_URI = re.compile(r"data:([\w/+.-]+);base64,[A-Za-z0-9+/=\s]+")


def slug(text: str, limit: int = 80) -> str:
    """`projects:1200…,1201…` → `projects-1200-1201`; long ones end in a short hash to stay unique."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "report"
    if len(cleaned) <= limit:
        return cleaned
    return cleaned[: limit - 13].rstrip("-") + "-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def file_name(outgoing: Outgoing, ext: str) -> str:
    return f"{slug(outgoing.kind, 20)}-{slug(outgoing.period, 20)}-{slug(outgoing.scope)}.{ext}"


def content(outgoing: Outgoing, ext: str) -> str:
    if ext == "md":
        return outgoing.markdown
    if ext == "html":
        return outgoing.html_inline
    if ext == "json":
        return json_body(outgoing.data) + "\n"
    return outgoing.text


def elide_data_uris(text: str) -> str:
    """Data URIs shortened for a dry run: `data:image/png;base64,… (12,345 characters)`."""
    return DATA_URI.sub(lambda m: f"data:{m.group(1)};base64,… ({len(m.group(0)):,} characters)", text)


def _umask() -> int:
    """The process umask, read without changing it (os.umask would, for every thread)."""
    try:
        for row in Path("/proc/self/status").read_text().splitlines():
            if row.startswith("Umask:"):
                return int(row.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`; the file gets
    the permissions a plain open() would give it (mkstemp's are owner-only)."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fchmod(stream.fileno(), 0o666 & ~_umask())
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class FileChannel(Channel):
    """`path` (required): the directory; `formats`: any of md, html, json, txt."""

    type = "file"
    keys: ClassVar[frozenset[str]] = frozenset({"path", "formats"})

    def configure(self, table: ChannelTable) -> None:
        self.directory = Path(table.required_string("path")).expanduser()
        formats = table.strings("formats") or DEFAULT_FORMATS
        for ext in formats:
            if ext not in FORMATS:
                raise table.fail("formats", f"may hold only {', '.join(FORMATS)}, got {ext!r}")
        self.formats = tuple(dict.fromkeys(formats))

    def prepare(self, outgoing: Outgoing) -> list[Prepared]:
        files = [(self.directory / file_name(outgoing, ext), content(outgoing, ext)) for ext in self.formats]
        shown = "\n\n".join(
            f"=== {path} ({len(text.encode()):,} bytes)\n{elide_data_uris(text)}" for path, text in files
        )
        return [
            Prepared(
                channel=self.name,
                target="",
                destination="write " + ", ".join(str(path) for path, _ in files),
                headers={},
                body=shown,
                payload=files,
            )
        ]

    def send(self, prepared: Prepared) -> str:
        files: list[tuple[Path, str]] = prepared.payload
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for path, text in files:
                write_atomically(path, text.encode("utf-8"))
        except (PermissionError, NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
            raise PermanentDeliveryError(
                f"channel {self.name}: cannot write to {self.directory} ({exc.strerror or type(exc).__name__}); "
                f"fix channels.{self.name}.path or its permissions"
            ) from exc
        except OSError as exc:
            raise TransientDeliveryError(
                f"channel {self.name}: writing to {self.directory} failed ({exc.strerror or type(exc).__name__})"
            ) from exc
        return ", ".join(path.name for path, _ in files)
