"""Render the demo's HTML report in headless Chromium and check the screenshot is not blank.

Builds what `tpmsync demo` builds (the sample workspace on a local sandbox, synced into a fresh
SQLite file, snapshots refreshed and the past seven weeks backfilled from history), writes the
HTML report with its charts inline, screenshots it with Chromium and checks the PNG: enough
distinct colours, enough non-white pixels, and pixels in the red/amber/green of the verdicts.

    .venv/bin/python bench/report_screenshot.py                  # weekly report of the demo workspace
    .venv/bin/python bench/report_screenshot.py --kind daily
    .venv/bin/python bench/report_screenshot.py --html report.html   # screenshot an existing file

Needs Chromium (Debian: `apt-get install chromium`). Exit code 0 when the check passes, 1 when
the screenshot looks blank, 2 when Chromium is missing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
VERDICT_RGB = {"red": (0xC6, 0x28, 0x28), "amber": (0xE0, 0x86, 0x00), "green": (0x2E, 0x7D, 0x32)}


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def demo_report(workdir: Path, kind: str) -> Path:
    """The demo workspace synced into a new store; the report written as HTML; returns its path."""
    from benchlib import synced_store

    from tpmsync.report.write import write_report
    from tpmsync.reporting import build_report
    from tpmsync.status import backfill_snapshots, refresh_snapshots, today_in

    synced = synced_store(workdir, seed=7, projects=6, tasks=80, subtask_ratio=0.3)
    store, settings = synced.store, synced.settings
    try:
        refresh_snapshots(store, settings)
        today = today_in(settings)
        backfill_snapshots(store, settings, [today - timedelta(days=d) for d in (1, 7, 14, 21, 28, 35, 42, 49)])
        report = build_report(store, settings, kind)
        return write_report(report, "html", workdir / f"{kind}-report.html")
    finally:
        store.dispose()


def screenshot(chromium: str, html: Path, png: Path, width: int, height: int) -> float:
    """Run headless Chromium on `html`; returns the seconds it took."""
    with tempfile.TemporaryDirectory() as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={width},{height}",
            html.resolve().as_uri(),
        ]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, timeout=120)
        return time.perf_counter() - start


def check(png: Path) -> tuple[bool, dict[str, object]]:
    """Not blank: many colours, a fair share of non-white pixels, and the verdict colours."""
    import numpy as np
    from PIL import Image

    with Image.open(png) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    size = (pixels.shape[1], pixels.shape[0])
    colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    non_white = float((pixels.min(axis=2) < 235).mean())
    verdicts = {
        name: int((np.abs(pixels - np.array(target)) <= 12).all(axis=2).sum()) for name, target in VERDICT_RGB.items()
    }
    facts: dict[str, object] = {"size": size, "colours": colours, "non_white": round(non_white, 3), **verdicts}
    ok = colours >= 100 and non_white >= 0.05 and sum(verdicts.values()) >= 500
    return ok, facts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=("daily", "weekly"), default="weekly")
    parser.add_argument("--html", type=Path, help="screenshot this HTML file instead of building the demo report")
    parser.add_argument("--out", type=Path, default=Path("report-screenshot.png"), help="where the PNG goes")
    parser.add_argument("--size", default="1000,1800", help="window size, width,height")
    args = parser.parse_args()
    chromium = find_chromium()
    if chromium is None:
        print(
            "Chromium is not installed. On Debian/Ubuntu: `sudo apt-get install chromium` "
            "(the `chromium` package; Ubuntu may ship it as a snap: `chromium-browser`). "
            f"Looked for: {', '.join(CHROMIUM_NAMES)} on PATH.",
            file=sys.stderr,
        )
        return 2
    width, height = (int(v) for v in args.size.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        html = args.html or demo_report(Path(tmp), args.kind)
        built = time.perf_counter() - start
        seconds = screenshot(chromium, html, args.out, width, height)
    ok, facts = check(args.out)
    print(f"{'report (build + HTML)':<24}{built:>8.2f} s  ({'given' if args.html else args.kind})")
    print(f"{'chromium screenshot':<24}{seconds:>8.2f} s  {args.out}")
    for name, value in facts.items():
        print(f"{name:<24}{value!s:>8}")
    print("screenshot check: " + ("ok — not blank" if ok else "FAILED — the screenshot looks blank"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
