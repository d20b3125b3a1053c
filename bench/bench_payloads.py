"""Payload bytes and build time per channel for portfolios of 1, 50, 200 and 1,000 projects.

For each size, a weekly report is made in memory (`tests/report/synthetic.py`: every project with
full task lists of 15 of a larger total, reasons, eight weeks of trend, a burn-up; no database, so
the numbers are the channels' own), then each channel's payload is built and measured as sent:

- email HTML: `render_email_html` (the summary in the HTML part; the full report is attached);
- Teams: `teams_message`, compact JSON bytes;
- Slack: `slack_message`, compact JSON bytes;
- webhook: the compact body (`summary_body`, the default) and the full one (`detail = "full"`);
- Asana status update: `render_asana` for every project (bytes of the largest and time for all);
- email text part: `render_summary_text` (the written summary it carries) against `render_text`
  (the whole report as plain text, which it carried before and the .txt file still gets), on the
  same report with the written statuses, flow and people (`extras=True`).

Times are the median of `--runs` runs. Charts are not drawn (their cost is in bench_report.py);
the email carries them as attached parts, not in the HTML measured here.

    .venv/bin/python bench/bench_payloads.py
    .venv/bin/python bench/bench_payloads.py --sizes 1 50 --runs 1
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "report"))


def timed(action: Callable[[], Any], runs: int) -> tuple[float, Any]:
    samples: list[float] = []
    result: Any = None
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def measure(size: int, runs: int) -> list[tuple[str, float, int]]:
    """(channel, seconds, bytes) for a weekly report of `size` projects."""
    from synthetic import make_report

    from tpmsync.deliver.outgoing import Outgoing, ProjectLine, Renderings, compact_json
    from tpmsync.deliver.slack import slack_message
    from tpmsync.deliver.teams import teams_message
    from tpmsync.deliver.webhook import summary_body
    from tpmsync.report import wording
    from tpmsync.report.render_asana import render_asana
    from tpmsync.report.render_html import render_email_html
    from tpmsync.report.render_summary import render_summary_text
    from tpmsync.report.render_text import render_text

    report = wording.clean_report(make_report(size, kind="weekly"))
    year = report.as_of.year
    lines = tuple(
        ProjectLine(gid=p.gid, name=p.name, health=p.health, reasons=p.reasons, url=p.url,
                    headline=wording.headline(p.headline, p.forecast, year), asana_html="")
        for p in report.projects
    )
    data = report.to_json()
    outgoing = Outgoing(kind=report.kind, period=report.period, scope=report.scope,
                        subject=wording.subject(report), health=report.health, projects=lines, summary_text="",
                        html="", data=data, renderings=Renderings.of())
    url = "https://wiki.example.com/reports/weekly"
    rows: list[tuple[str, float, int]] = []
    seconds, html = timed(lambda: render_email_html(report, {}, attachment="tpmsync-weekly.html"), runs)
    rows.append(("email HTML", seconds, len(html.encode())))
    seconds, body = timed(lambda: compact_json(teams_message(outgoing, url)), runs)
    rows.append(("Teams", seconds, len(body.encode())))
    seconds, body = timed(lambda: compact_json(slack_message(outgoing, url)), runs)
    rows.append(("Slack", seconds, len(body.encode())))
    seconds, body = timed(lambda: compact_json(summary_body(data)), runs)
    rows.append(("webhook (summary)", seconds, len(body.encode())))
    seconds, body = timed(lambda: compact_json(data), runs)
    rows.append(('webhook (detail="full")', seconds, len(body.encode())))
    seconds, updates = timed(lambda: [render_asana(report, p) for p in report.projects], runs)
    rows.append(("Asana update (largest)", seconds, max(len(u.encode()) for u in updates)))
    written = wording.clean_report(make_report(size, kind="weekly", extras=True))
    seconds, text = timed(lambda: render_summary_text(written, attachment="tpmsync-weekly.html"), runs)
    rows.append(("email text (summary)", seconds, len(text.encode())))
    seconds, text = timed(lambda: render_text(written), runs)
    rows.append(("text report (.txt)", seconds, len(text.encode())))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 50, 200, 1000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"# {platform.node()} · {platform.processor() or platform.machine()} · Python {platform.python_version()}"
          f" · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · median of {args.runs}")
    print(f"{'projects':>8}  {'channel':<22} {'bytes':>12} {'build s':>9}")
    for size in args.sizes:
        for channel, seconds, size_bytes in measure(size, args.runs):
            print(f"{size:>8,}  {channel:<22} {size_bytes:>12,} {seconds:>9.3f}")


if __name__ == "__main__":
    main()
