"""Hand-made reports for the delivery tests (imported by module name, like sandbox_support)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from tpmsync.config import AsanaSettings, Settings
from tpmsync.deliver.outgoing import Outgoing, ProjectLine, Renderings

SOURCE = "/etc/tpmsync/tpmsync.toml"
RANK = {"green": 0, "amber": 1, "red": 2}


def tiny_png(rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid 1×1 PNG."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes([0, *rgb])))
            + chunk(b"IEND", b""))


def line(gid: str, name: str, health: str, reasons: Sequence[str] = (), url: str | None = "default") -> ProjectLine:
    if url == "default":
        url = f"https://app.asana.com/0/{gid}/list"
    return ProjectLine(
        gid=gid,
        name=name,
        health=health,
        reasons=tuple(reasons),
        url=url,
        headline="56 open · 3 overdue · 2 blocked · SPI 0.92",
        asana_html=f"<body><strong>{name}</strong> is {health}.<ul><li>56 open</li></ul></body>",
    )


def sample_lines() -> list[ProjectLine]:
    return [
        line("1201", "Customer portal", "red", ["49 of 55 open tasks not updated for 5+ days", "1 task overdue",
                                                "SPI 0.81", "CPI 0.90"]),
        line("1202", "Data <warehouse> & migration", "amber", ["'Audit permissions' is blocked by overdue 'SSO'"]),
        line("1203", "Website relaunch", "green", []),
    ]


def make_outgoing(
    lines: Sequence[ProjectLine] | None = None,
    *,
    kind: str = "daily",
    period: str = "2026-11-25",
    scope: str = "portfolio",
    images: Mapping[str, bytes] | None = None,
) -> Outgoing:
    projects = tuple(sample_lines() if lines is None else lines)
    health = max((p.health for p in projects), key=RANK.__getitem__, default="green")
    counts = ", ".join(f"{sum(p.health == h for p in projects)} {h}" for h in ("red", "amber", "green"))
    subject = f"tpmsync {kind} — {health.upper()} — {period}: {counts}"
    images = {"burndown": tiny_png()} if images is None else dict(images)
    imgs = "".join(f'<img src="cid:{name}" alt="{name}">' for name in images)
    html = f"<!doctype html><html><body><h1>{subject}</h1>{imgs}<ul>" + "".join(
        f"<li>{p.name}: {p.health}</li>" for p in projects) + "</ul></body></html>"
    html_inline = html
    for name in images:
        html_inline = html_inline.replace(f"cid:{name}", "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB")
    data: dict[str, Any] = {
        "kind": kind,
        "period": period,
        "scope": scope,
        "health": health,
        "projects": [{"gid": p.gid, "name": p.name, "health": p.health, "reasons": list(p.reasons)}
                     for p in projects],
    }
    return Outgoing(
        kind=kind,
        period=period,
        scope=scope,
        subject=subject,
        health=health,
        projects=projects,
        summary_text=f"{subject}\n\n" + "\n".join(f"{p.name}: {p.health}" for p in projects),
        html=html,
        data=data,
        renderings=Renderings.of(
            text=f"{subject}\n\n" + "\n".join(f"- {p.name}: {p.health}" for p in projects),
            markdown=f"# {subject}\n\n" + "\n".join(f"- **{p.name}**: {p.health}" for p in projects),
            html_inline=html_inline,
        ),
        images=images,
    )


def make_settings(channels: Mapping[str, Mapping[str, Any]], *, asana: AsanaSettings | None = None) -> Settings:
    return Settings(asana=asana or AsanaSettings(), channels={k: dict(v) for k, v in channels.items()},
                    source=SOURCE)


class Sleeps:
    """An injected sleep that records what it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
