"""CPU seconds of the plain-text report (`render_text`) for weekly reports of 50 and 200 projects.

The reports are made in memory (`tests/report/synthetic.py`, `make_report(n, extras=True)`: full
task lists, reasons, the written status, flow, people and eight weeks of trend), as for the email
text part in bench_payloads.py. CPU seconds of this process (`time.process_time`), so that other
work on the machine weighs less than in wall-clock times; the first run is a fresh process's
(nothing cached), the median is of `--runs` runs. The output's size and a digest are printed to
show that a faster renderer writes the same bytes.

    .venv/bin/python bench/bench_text.py
    .venv/bin/python bench/bench_text.py --sizes 50 --runs 1
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "report"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from synthetic import make_report

    from tpmsync.report.render_text import render_text

    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    print("| projects | bytes | sha256 (first 12) | first run, CPU s | median, CPU s | per project |")
    print("|---:|--:|---|--:|--:|--:|")
    for size in args.sizes:
        report = make_report(size, kind="weekly", extras=True)
        samples: list[float] = []
        text = ""
        for _ in range(args.runs):
            start = time.process_time()
            text = render_text(report)
            samples.append(time.process_time() - start)
        data = text.encode()
        median = statistics.median(samples)
        print(f"| {size:,} | {len(data):,} | {hashlib.sha256(data).hexdigest()[:12]} | {samples[0]:.3f} "
              f"| {median:.3f} | {1000 * median / size:.1f} ms |")


if __name__ == "__main__":
    main()
