"""Project status: KPIs per project and the portfolio, as one JSON document, and the KPI snapshots.

`refresh_snapshots` computes today's KPIs after a sync commits and stores them; `status_for` is the
one call of `tpmsync status`: it answers from those snapshots through the stdlib reader when they
are current (the fast path that keeps the command instant), else through the store, computing (and
storing) today's KPIs when needed. Another `as_of` is computed and never stored: the definitions
evaluated on that day over the store as it is now, or, with `rebuild`, a past day as sync history
rebuilds it (what reports of past periods and `backfill_snapshots` use).

This module is on the `tpmsync status` path: SQLAlchemy and the KPI engine are imported only when
KPIs must be read through the store or computed, and the asana SDK never.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tpmsync.config import ConfigError, Settings
from tpmsync.errors import TpmsyncError
from tpmsync.portfolio import HEALTH_ORDER, roll_up, row_of_json
from tpmsync.store.freshness import DEFAULT_STALE_SYNC_MINUTES
from tpmsync.words import ago

if TYPE_CHECKING:
    from tpmsync.kpi.engine import KpiSettings
    from tpmsync.store.db import Store

def today_in(settings: Settings) -> date:
    return datetime.now(ZoneInfo(settings.kpi.timezone)).date()


def fingerprint(settings: Settings) -> str:
    """What the KPI numbers depend on besides the store; snapshots made under another are stale."""
    basis = {
        "kpi": asdict(settings.kpi),
        "budget": asdict(settings.budget),
        "flow": None if settings.flow is None else asdict(settings.flow),
        "workload": asdict(settings.workload),
        "version": 3,  # 2: flow, the forecast detail and people in the document; 3: multi_homed
    }
    return hashlib.sha256(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()[:32]


def stale_sync_minutes(settings: Settings) -> int:
    """`[schedule] stale_sync_minutes`: data older than this is stale (and the worker unhealthy)."""
    value = settings.schedule_options.get("stale_sync_minutes", DEFAULT_STALE_SYNC_MINUTES)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{settings.source}: schedule.stale_sync_minutes must be a whole number ≥ 1, got {value!r}")
    return value


@dataclass(frozen=True)
class Freshness:
    """When the last sync finished (aware UTC, None when none has) and whether that is too long ago."""

    synced_at: datetime | None
    stale_after_minutes: int
    now: datetime

    @property
    def stale(self) -> bool:
        return self.synced_at is None or self.now - self.synced_at > timedelta(minutes=self.stale_after_minutes)

    def reason(self) -> str:
        """The reason a stale document gives, naming the last sync."""
        if self.synced_at is None:
            return "data is stale: no sync has finished yet; run `tpmsync sync`"
        return (f"data is stale: the last sync finished {ago(self.now - self.synced_at)} ago "
                f"({self.synced_at:%Y-%m-%d %H:%M} UTC), more than {self.stale_after_minutes} min; run `tpmsync sync`")


def freshness_of(settings: Settings, last_sync: datetime | str | None, now: datetime | None = None) -> Freshness:
    """The freshness of data whose last finished sync ended at `last_sync` (naive UTC, or SQLite's text)."""
    moment = datetime.fromisoformat(last_sync) if isinstance(last_sync, str) else last_sync
    synced_at = None if moment is None else moment.replace(tzinfo=UTC)
    return Freshness(synced_at, stale_sync_minutes(settings), now or datetime.now(UTC))


def status_document(
    as_of: date,
    projects: Sequence[dict[str, Any]],
    people: Sequence[dict[str, Any]] = (),
    freshness: Freshness | None = None,
) -> dict[str, Any]:
    """the status contract of docs/kpis.md: worst projects first, then by name, the portfolio,
    `people` (workload across every tracked project, most loaded first), and freshness.

    With `freshness`, the document says when the last sync finished (`synced_at`) and whether the
    data is `stale`; a stale document keeps every health and adds a reason naming the last sync.
    """
    ordered = sorted(projects, key=lambda p: (-HEALTH_ORDER.get(p["health"], 0), p["name"]))
    document: dict[str, Any] = {"as_of": as_of.isoformat()}
    if freshness is not None:
        stale = freshness.stale
        synced = freshness.synced_at
        document["synced_at"] = None if synced is None else synced.isoformat(timespec="seconds")
        document["stale"] = stale
        reason = [freshness.reason()] if stale else []
        ordered = [{**p, "stale": stale, "reasons": [*p["reasons"], *reason]} for p in ordered]
    document["projects"] = ordered
    document["portfolio"] = portfolio_of(ordered)
    document["people"] = list(people)
    return document


def portfolio_of(projects: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Roll the project JSONs up (`tpmsync.portfolio`): the worst health, counts summed."""
    return roll_up(row_of_json(p) for p in projects).status_json()


# -- the one call of `tpmsync status` ------------------------------------------------------------


def status_for(
    settings: Settings,
    selectors: Sequence[str] = (),
    as_of: date | None = None,
    by: date | None = None,
    *,
    store: Store | None = None,
    detail: bool = True,
    unsaved: Callable[[str], None] | None = None,
    rebuild: bool = False,
) -> dict[str, Any]:
    """The status document: from today's snapshots by the stdlib reader when current, else the store.
    `rebuild`: a past `as_of` as sync history rebuilds it (`read_status`).

    `detail=False` lets the stdlib reader return each project's summary (no per-task lists: what a
    table or Markdown status shows); the full path always returns whole documents.

    `by`: count `deadline.forecast.how_many` to this date rather than as_of + 14 days (recounted
    from the store; the rest of the document is read as usual). The store is `store` when given
    (the MCP server passes its read-only one), else the settings' database, opened for this call:
    read-only when its file or directory takes no writes (`store.db.can_write`). `unsaved` is told,
    once, when today's KPIs were computed but the store could not keep them as snapshots.
    """
    from tpmsync.store.fastread import read_current, sqlite_path

    day = as_of or today_in(settings)
    if by is not None and by < day:
        raise TpmsyncError(f"--by {by.isoformat()} is before the status day {day.isoformat()}")
    path = sqlite_path(settings.database_url)
    if path is not None and not Path(path).exists():
        raise TpmsyncError(
            f"nothing synced yet: the local store {path} does not exist, so it has no projects yet: run "
            f"`tpmsync sync` (projects come from asana.projects in {settings.source})"
        )
    if path is not None and day == today_in(settings) and by is None:
        fast = read_current(path, selectors, day, fingerprint(settings), detail=detail)
        if fast is not None:
            return status_document(day, fast.projects, fast.people, freshness_of(settings, fast.last_sync))
    if store is not None:
        return _status_through(store, settings, selectors, day, by, unsaved, rebuild)
    from tpmsync.store.db import can_write, open_store

    store = open_store(settings.database_url, read_only=not can_write(settings.database_url))
    try:
        return _status_through(store, settings, selectors, day, by, unsaved, rebuild)
    finally:
        store.dispose()


def _status_through(
    store: Store,
    settings: Settings,
    selectors: Sequence[str],
    day: date,
    by: date | None,
    unsaved: Callable[[str], None] | None,
    rebuild: bool,
) -> dict[str, Any]:
    document = read_status(store, settings, selectors=selectors, as_of=day, unsaved=unsaved, rebuild=rebuild)
    if by is not None:
        count_by(store, settings, document, by, rebuild=rebuild)
    return document


def count_by(store: Store, settings: Settings, document: dict[str, Any], by: date, *, rebuild: bool = False) -> None:
    """Replace each project's `deadline.forecast.how_many` in `document` by the count to `by`,
    from the same task states and the same seed and trials as the stored forecast."""
    from tpmsync.kpi.how_many import compute_how_many
    from tpmsync.kpi_inputs import load_projects
    from tpmsync.store.snapshots import tracked_projects

    as_of = date.fromisoformat(document["as_of"])
    engine = kpi_settings(settings)
    gids = [project["gid"] for project in document["projects"]]
    past = rebuild and as_of < today_in(settings)
    with store.read() as session:
        inputs = load_projects(session, settings, tracked_projects(session, gids), as_of if past else None)
    counts = {
        p.gid: compute_how_many(p.tasks, as_of, p.due_on, by, trials=engine.forecast_trials, seed=engine.forecast_seed)
        for p in inputs
    }
    for project in document["projects"]:
        project["deadline"]["forecast"]["how_many"] = counts[project["gid"]].to_json()


def read_status(
    store: Store,
    settings: Settings,
    *,
    selectors: Sequence[str] = (),
    as_of: date | None = None,
    unsaved: Callable[[str], None] | None = None,
    rebuild: bool = False,
) -> dict[str, Any]:
    """The status document through the store (the contract in docs/kpis.md).

    An `as_of` other than today evaluates the definitions on that day over the store as it is now;
    with `rebuild`, a past day is first rebuilt from sync history (`kpi_inputs`).

    Today's KPIs, when computed here, are stored as snapshots unless the store is read-only or
    refuses the write; then the document is the same, and `unsaved` (if given) is told why once.
    """
    from tpmsync.store.snapshots import current_people, current_snapshots, last_finished_sync, tracked_projects

    today = today_in(settings)
    as_of = as_of or today
    with store.read() as session:
        projects = tracked_projects(session, selectors)
        if not projects:
            raise TpmsyncError(
                f"nothing synced yet: the local store {store.safe_url} has no projects yet: run `tpmsync sync` "
                f"(projects come from asana.projects in {settings.source})"
            )
        freshness = freshness_of(settings, last_finished_sync(session))
        current = people = None
        if as_of == today:
            current = current_snapshots(session, [p.gid for p in projects], as_of, fingerprint(settings))
            people = current_people(session, as_of, fingerprint(settings))
    if as_of != today:
        return status_document(as_of, *compute_status(store, settings, as_of, selectors, rebuild=rebuild), freshness)
    if current is not None and people is not None:
        return status_document(as_of, current, people, freshness)
    computed, people = compute_status(store, settings, as_of)
    _keep_today(store, settings, as_of, computed, people, unsaved)
    wanted = {p.gid for p in projects}
    return status_document(as_of, [p for p in computed if p["gid"] in wanted], people, freshness)


# -- computing and storing KPI snapshots ---------------------------------------------------------


def kpi_settings(settings: Settings) -> KpiSettings:
    from tpmsync.config import thresholds_of
    from tpmsync.kpi.engine import KpiSettings

    limits = thresholds_of(settings)
    try:
        return KpiSettings(
            due_soon_days=settings.kpi.due_soon_days, stalled_days=settings.kpi.stalled_days, thresholds=limits
        )
    except ValueError as exc:
        raise ConfigError(f"{settings.source}: {exc}") from exc


def compute_status(
    store: Store, settings: Settings, as_of: date, selectors: Sequence[str] = (), *, rebuild: bool = False
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The selected projects' KPI JSONs for `as_of` and the `people` list, computed from the store
    now (`tpmsync.kpi_compute`: flow, the forecast detail, people and overloaded owners); `rebuild`:
    a past `as_of` rebuilt from sync history first. People and their reasons are over every tracked
    project, whatever is selected."""
    from tpmsync.kpi_compute import compute_day
    from tpmsync.store.snapshots import tracked_projects

    engine_settings = kpi_settings(settings)
    past = rebuild and as_of < today_in(settings)
    with store.read() as session:
        wanted = {p.gid for p in tracked_projects(session, selectors)}
        day = compute_day(session, settings, engine_settings, tracked_projects(session), as_of, past=past)
    projects = [kpis.to_json() for kpis in day.projects if kpis.gid in wanted]
    return projects, [person.to_json() for person in day.people]


def compute_projects(
    store: Store, settings: Settings, as_of: date, selectors: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Every selected project's KPI JSON for `as_of`, a past day rebuilt from sync history."""
    return compute_status(store, settings, as_of, selectors, rebuild=True)[0]


def refresh_snapshots(
    store: Store,
    settings: Settings,
    *,
    run_id: int | None = None,
    synced: Collection[str] | None = None,
    written: Collection[str] = (),
) -> list[dict[str, Any]]:
    """Compute today's KPIs and people after a sync and store them; returns the project JSONs computed.

    After a sync of every project (`synced` None) every tracked project is computed.  After a
    sync of the projects `synced` (gids) that wrote the tasks `written` (gids), only those
    projects and the ones whose inputs the sync may have changed are (`kpi_compute.Kept`: tasks
    of theirs that are, or depend through dependencies and subtasks on, what the sync wrote;
    milestone networks cross projects); the other projects' snapshots of today are marked current
    as they are.  A project without a stored snapshot of today (or after a change of settings)
    is computed.
    """
    from tpmsync.kpi_compute import Kept, compute_day
    from tpmsync.store.snapshots import snapshots_of_day, tracked_projects

    as_of = today_in(settings)
    if synced is None:
        computed, people = compute_status(store, settings, as_of)
        _save(store, settings, as_of, computed, people, run_id)
        return computed
    with store.read() as session:
        stored, stored_people = snapshots_of_day(session, as_of, fingerprint(settings))
        kept = None if stored_people is None else Kept(stored, stored_people, frozenset(synced), frozenset(written))
        tracked = tracked_projects(session)
        day = compute_day(session, settings, kpi_settings(settings), tracked, as_of, past=False, kept=kept)
    computed = [kpis.to_json() for kpis in day.projects]
    _save(store, settings, as_of, computed, [person.to_json() for person in day.people], run_id, day.reused)
    return computed


def _keep_today(
    store: Store,
    settings: Settings,
    as_of: date,
    projects: list[dict[str, Any]],
    people: list[dict[str, Any]],
    unsaved: Callable[[str], None] | None,
) -> None:
    """Store today's freshly computed KPIs, unless the store cannot take them (then say so)."""
    from tpmsync.store.faults import refuses_writes

    why = "it is read-only here"
    if not store.read_only:
        try:
            _save(store, settings, as_of, projects, people, None)
            return
        except Exception as exc:
            cause = refuses_writes(exc)
            if cause is None:
                raise
            why = f"it refused the write: {cause}"
    if unsaved is not None:
        unsaved(
            f"today's KPIs were computed but could not be saved as snapshots: the store {store.where} takes no "
            f"writes ({why}); the next status computes them again until a sync saves them"
        )


def _save(
    store: Store,
    settings: Settings,
    as_of: date,
    projects: list[dict[str, Any]],
    people: list[dict[str, Any]] | None,
    run_id: int | None,
    still_current: Sequence[str] = (),
) -> None:
    """Store the project JSONs (and people) of `as_of`; mark the snapshots of `still_current` as
    computed now, in the same transaction."""
    from tpmsync.store.snapshots import restamp_snapshots, save_people, save_snapshots

    with store.write() as session:
        save_snapshots(session, as_of, projects, fingerprint=fingerprint(settings), run_id=run_id)
        if people is not None:
            save_people(session, as_of, people, fingerprint=fingerprint(settings), run_id=run_id)
        restamp_snapshots(session, as_of, still_current, run_id=run_id)


def backfill_snapshots(store: Store, settings: Settings, days: Iterable[date]) -> list[date]:
    """Store snapshots, reconstructed from history, for the past `days` that have none.

    Days on or after today are skipped (`tpmsync status` and sync refresh those). A day is
    filled only for the tracked projects without a snapshot on it. Returns the days written.
    """
    from tpmsync.store.snapshots import snapshot_days, tracked_projects

    today = today_in(settings)
    wanted = sorted({d for d in days if d < today})
    with store.read() as session:
        gids = [p.gid for p in tracked_projects(session)]
        existing = snapshot_days(session, wanted)
    written: list[date] = []
    for day in wanted:
        missing = [g for g in gids if g not in existing[day]]
        if not missing:
            continue
        _save(store, settings, day, compute_projects(store, settings, day, missing), None, None)
        written.append(day)
    return written
