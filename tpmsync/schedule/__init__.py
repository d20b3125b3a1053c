"""Scheduled syncs and reports from the `[schedule.*]` tables, run by one leader among the workers.

Each module has one reason to change:

- `plan`: the config validated into `JobSpec`s (`load_plan`), `triggers`: cron and interval triggers;
- `leader`: who leads (a PostgreSQL advisory lock, or a lease row on SQLite), with the clock;
- `jobstore`: APScheduler's job store on the store's engine (each job's next run time);
- `runs`: running one job and recording it in `schedule_runs` (`execute`, `run_once`);
- `worker`: the loop that runs what is due while leading (`Worker.tick`, `Worker.serve`);
- `health`: what `schedule list` and `schedule status` show.

Nothing here imports `tpmsync.cli`; the jobs are the functions of `tpmsync.jobs`, as for the CLI.
"""
