"""Run a sandbox server standalone.

Example:
    python -m tpmsync.sandbox --port 8765 --projects 5 --tasks 200 --seed 1 --latency-ms 0 --error-rate 0

With ``--json`` the first line of output is one JSON object (base_url, root_url, token, workspace
gid, project gids, task count) for a parent process to read.  SIGTERM or Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from datetime import date
from types import FrameType

from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tpmsync.sandbox",
                                     description="Local Asana-compatible API server over a generated workspace.")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--projects", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=200, help="member tasks per project")
    parser.add_argument("--subtask-ratio", type=float, default=0.3)
    parser.add_argument("--teams", type=int, default=2)
    parser.add_argument("--no-dependencies", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    parser.add_argument("--token", default="sandbox-token")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--retry-after", type=int, default=0)
    parser.add_argument("--json", action="store_true",
                        help='first line is JSON: {"base_url", "root_url", "token", "workspace", "projects", "tasks"}')
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    workspace = generate_workspace(seed=args.seed, projects=args.projects, tasks_per_project=args.tasks,
                                   subtask_ratio=args.subtask_ratio, today=args.today, teams=args.teams,
                                   with_dependencies=not args.no_dependencies)
    server = SandboxServer(workspace, port=args.port, token=args.token, fault_seed=args.seed)
    server.faults.latency_ms = args.latency_ms
    server.faults.error_rate = args.error_rate
    server.faults.retry_after = args.retry_after

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    if args.json:
        print(json.dumps({"base_url": server.base_url, "root_url": server.root_url, "token": server.token,
                          "workspace": workspace.asana_workspace.gid, "projects": list(workspace.projects),
                          "tasks": len(workspace.tasks)}), flush=True)
    else:
        print(f"tpmsync sandbox serving {server.base_url}", flush=True)
        print(f"  token={server.token} workspace={workspace.asana_workspace.gid} projects={len(workspace.projects)} "
              f"tasks={len(workspace.tasks)} admin={server.root_url}/_sandbox/", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
