"""Milestone dates through the dependency network, by Monte Carlo.

For each open milestone of a project, the network is the milestone and its open predecessors,
transitively, across projects and through subtasks (`milestone_network`).  Each trial draws
every open task's remaining duration from the history of the project it belongs to
(`milestone_durations`: cycle times, else span ratios, else the forecast is refused as thin),
and takes the longest path (`milestone_paths`).

Milestones themselves are markers: they keep their planned span in every trial.  A task's
whole duration is drawn even when it has started (the store does not know how far along it
is), which is also what makes a network whose every drawn duration equals the planned span
give exactly the critical-path date: as_of + the length of the longest chain ending at the
milestone.  A trial's finish day is its longest path; p50/p85 are nearest-rank over the
trials (None past the 10-year horizon of the throughput forecast, with a reason),
`probability_on_time` the share finishing on or before the milestone's due date.

`criticality` of a task: the share of trials in which it lies on the path that decides the
milestone's date, traced back from the milestone through the predecessor that finished last
(ties: the lower node number, nodes being numbered by (level, number of dependencies, due,
name, gid); a parent whose last subtask finishes after its own work passes the decision to
that subtask).  A milestone whose predecessors form a dependency cycle is refused.  The five
non-milestone tasks with the highest share over all the project's milestones are the ones to
unblock first.

Trials run in blocks of at most `BLOCK_CELLS` / nodes, which bounds memory; the buffers are
reused from block to block (fresh pages cost more than the work).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import NamedTuple

import numpy as np

from tpmsync.kpi.forecast import DEFAULT_SEED, DEFAULT_TRIALS, HORIZON_DAYS, nearest_rank
from tpmsync.kpi.forecast_detail import Criticality, MilestoneForecast, TaskLink, UnblockItem
from tpmsync.kpi.milestone_durations import DurationHistory, draw, duration_classes
from tpmsync.kpi.milestone_network import Network, ancestor_counts, build_network, node_key
from tpmsync.kpi.milestone_paths import IntArray, finish_type, plan, propagate
from tpmsync.kpi.model.inputs import TaskInput

CRITICALITY_LIMIT = 20
UNBLOCK_LIMIT = 5
BLOCK_CELLS = 8_000_000
"""Nodes × trials computed at once: 16 MB of finish days and 8 MB of deciders at most."""


class MilestoneOutlook(NamedTuple):
    """Every open milestone's forecast, and the tasks to unblock first across them."""

    milestones: tuple[MilestoneForecast, ...]
    unblock_first: tuple[UnblockItem, ...]


class _Trials(NamedTuple):
    """What the trials gave, per scheduled root: every trial's finish day and the path counts."""

    finishes: dict[int, IntArray]
    hits: dict[int, IntArray]


def _simulate(
    network: Network,
    roots: Sequence[int],
    home: str,
    own_gids: set[str],
    histories: Mapping[str, DurationHistory],
    trials: int,
    seed: int,
) -> _Trials:
    """Run the trials block by block for the roots that are not in or after a cycle."""
    n = len(network.tasks)
    scheduled = [root for root in roots if network.level[root] >= 0]
    if not scheduled:
        return _Trials({}, {})
    steps = plan(network)
    durations = duration_classes(network.tasks, home, own_gids, histories)
    rng = np.random.default_rng(seed)
    block = max(1, min(trials, BLOCK_CELLS // max(n, 1)))
    finish = np.empty((n, block), finish_type(steps, durations.longest))
    decider = np.empty((n, block), steps.slot_type)
    finishes: dict[int, list[IntArray]] = {root: [] for root in scheduled}
    hits = {root: np.zeros(n, np.int64) for root in scheduled}
    for begin in range(0, trials, block):
        width = min(block, trials - begin)
        if width < block:
            finish, decider = finish[:, :width].copy(), decider[:, :width].copy()
        result = propagate(steps, draw(durations, finish, rng), decider)
        counted = result.on_path(scheduled)
        for row, root in enumerate(scheduled):
            finishes[root].append(result.finish[root].astype(np.int64))
            hits[root] += counted[row]
    return _Trials({root: np.sort(np.concatenate(days)) for root, days in finishes.items()}, hits)


def _link(task: TaskInput, project_gid: str | None) -> TaskLink:
    return TaskLink(task.gid, task.name, project_gid, task.assignee_gid, task.assignee_name, task.due)


def forecast_milestones(
    project_gid: str,
    project_name: str,
    tasks: Sequence[TaskInput],
    known: Mapping[str, TaskInput],
    histories: Mapping[str, DurationHistory],
    as_of: date,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
) -> MilestoneOutlook:
    """The milestone forecasts of one project (see the module docstring).

    `tasks` is the project's task set; `known` maps the gid of every task the store knows
    (other projects' sets, tasks outside any tracked project) to it, so that predecessors can
    be followed across projects; `histories` maps project gids to their `DurationHistory`.
    """
    if trials < 1:
        raise ValueError(f"a forecast needs at least one trial, got {trials}")
    everything = dict(known)
    everything.update({task.gid: task for task in tasks})
    own_gids = {task.gid for task in tasks}
    milestones = sorted((task for task in tasks if task.is_milestone and not task.completed), key=node_key)
    if not milestones:
        return MilestoneOutlook((), ())
    home_history = histories.get(project_gid, DurationHistory())
    basis = home_history.basis
    network = build_network(milestones, everything)
    node_of = {task.gid: node for node, task in enumerate(network.tasks)}
    roots = [node_of[task.gid] for task in milestones]
    n = len(network.tasks)
    outcome = _Trials({}, {})
    if basis is not None:
        outcome = _simulate(network, roots, project_gid, own_gids, histories, trials, seed)

    # Ties between equal shares: the earlier in the network, then name, gid.
    tasks_of = network.tasks
    by_place = sorted(range(n), key=lambda node: (network.level[node], tasks_of[node].name, tasks_of[node].gid))
    place = np.empty(n, np.int64)
    place[by_place] = np.arange(n)
    best_share = np.zeros(n)  # over all milestones, for the unblock-first list
    best_root = np.zeros(n, np.int64)
    markers = np.array([task.is_milestone for task in network.tasks], bool)
    predecessors = ancestor_counts(network, roots)
    results: list[MilestoneForecast] = []
    for task, root in zip(milestones, roots, strict=True):
        if root not in outcome.finishes:
            reason = (
                home_history.thin_reason(project_name)
                if basis is None
                else "its predecessors include a dependency cycle, so it has no date"
            )
            results.append(
                MilestoneForecast(
                    task.gid, task.name, project_gid, task.due, None, None, None, basis, reason, 0, predecessors[root],
                    0, (),
                )
            )
            continue
        days = outcome.finishes[root]
        ordered = days.tolist()
        p50_days, p85_days = nearest_rank(ordered, 50), nearest_rank(ordered, 85)
        p50 = None if p50_days > HORIZON_DAYS else as_of + timedelta(days=p50_days)
        p85 = None if p85_days > HORIZON_DAYS else as_of + timedelta(days=p85_days)
        beyond = None
        if p85 is None:
            which = "p85" if p50 is not None else "p50 and p85"
            beyond = f"{which} beyond the simulation horizon of {HORIZON_DAYS} days"
        probability = None
        if task.due is not None:
            probability = int(np.searchsorted(days, (task.due - as_of).days, side="right")) / trials
        counted = outcome.hits[root]
        on_path = np.flatnonzero(counted)
        ranked = on_path[np.lexsort((place[on_path], -counted[on_path]))]
        share = counted / trials
        criticality = tuple(
            Criticality(network.tasks[node].gid, network.tasks[node].name, float(share[node]))
            for node in ranked[:CRITICALITY_LIMIT].tolist()
        )
        higher = (share > best_share) & ~markers
        best_share[higher] = share[higher]
        best_root[higher] = root
        results.append(
            MilestoneForecast(
                task.gid,
                task.name,
                project_gid,
                task.due,
                p50,
                p85,
                probability,
                basis,
                beyond,
                trials,
                predecessors[root],
                len(on_path),
                criticality,
            )
        )
    unblock = _unblock_first(network, best_share, best_root, place, everything, project_gid, own_gids)
    return MilestoneOutlook(tuple(results), unblock)


def _unblock_first(
    network: Network,
    share: np.ndarray,
    root_of: IntArray,
    place: IntArray,
    everything: Mapping[str, TaskInput],
    project_gid: str,
    own_gids: set[str],
) -> tuple[UnblockItem, ...]:
    """The tasks with the highest share over all milestones, the milestone each decides most, its blockers."""
    deciding = np.flatnonzero(share > 0)
    first = deciding[np.lexsort((place[deciding], -share[deciding]))][:UNBLOCK_LIMIT]
    unblock: list[UnblockItem] = []
    for node in first.tolist():
        task = network.tasks[node]
        milestone = network.tasks[int(root_of[node])]
        blockers = sorted(
            {
                dep.gid: dep
                for gid in task.dependency_gids
                if (dep := everything.get(gid)) is not None and not dep.completed
            }.values(),
            key=node_key,
        )
        unblock.append(
            UnblockItem(
                task=_link(task, project_gid if task.gid in own_gids else task.project_gid),
                share=float(share[node]),
                milestone_gid=milestone.gid,
                milestone_name=milestone.name,
                milestone_due=milestone.due,
                blocked_by=tuple(
                    _link(dep, project_gid if dep.gid in own_gids else dep.project_gid) for dep in blockers
                ),
            )
        )
    return tuple(unblock)
