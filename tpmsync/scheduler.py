"""The callable that job rows stored before `tpmsync.schedule` existed name; APScheduler resolves it
when it loads such a row. A new leader rewrites the rows with `tpmsync.schedule.jobstore.RUN_FUNC_REF`."""

from tpmsync.schedule.runs import run_named_job

__all__ = ["run_named_job"]
