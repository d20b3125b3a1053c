"""Milestone dates through the dependency network, by Monte Carlo.

For each open milestone of a project, the network is the milestone and its open predecessors,
transitively: the open tasks it depends on (in any project, or in none) and, through
subtasks, the open subtasks of every task in it.  Two kinds of edge:

- dependency (finish → start): a task starts when its last open dependency finishes;
- subtask (finish → finish): a parent finishes no earlier than its last open subtask.

Each trial draws every open task's remaining duration from the history of the project it
belongs to (the forecast project for its own tasks, `project_gid` for the others; a project
with no usable history of its own lends the forecast project's):

- "cycle_time": with at least 5 cycle times (flow history), a duration is one of them, drawn
  uniformly;
- "span_ratio": else, with at least 5 tasks completed in the last 180 days that had a start
  and a due date (due ≥ start) and were completed on or after their start, a duration is the
  task's planned span — (due − start) + 1 days, or 1 day, as on the critical path — times one
  of their ratios actual span / planned span (actual span = completed − start + 1), rounded
  up, at least 1 day;
- otherwise the history is thin and the milestone's forecast is refused with a reason.

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
that subtask).  A milestone whose
predecessors form a dependency cycle is refused.

How it stays fast: nodes are grouped into levels (a node's level is one more than its deepest
predecessor's), each level a contiguous run of node numbers, and every level is computed for a
block of trials at once with numpy.  Each node's finish day and number share one integer key
(finish · 2^b + (2^b − 1 − node)), so the maximum of its predecessors' keys gives both the latest
finish and, on ties, the lowest-numbered predecessor that set it; that key is stored as the
node's decider and decoded only along the paths walked for criticality.  Durations are drawn
from raw random bytes through `bytes.translate`.  Trials run in blocks of at most `BLOCK_CELLS`
/ nodes, which bounds memory (buffers are reused: fresh pages cost more than the work);
`propagate_python` is the same propagation in plain Python (tests compare the two, the
benchmark times both).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from tpmsync.kpi.dependencies import task_days
from tpmsync.kpi.forecast import DEFAULT_SEED, DEFAULT_TRIALS, HORIZON_DAYS, nearest_rank
from tpmsync.kpi.forecast_detail import Criticality, MilestoneForecast, TaskLink, UnblockItem
from tpmsync.kpi.model.inputs import TaskInput

MIN_HISTORY = 5
"""Cycle times, or completed tasks with a planned and an actual span, that a basis needs."""
HISTORY_DAYS = 180
"""Span ratios come from tasks completed on as_of − 179 … as_of."""
CRITICALITY_LIMIT = 20
UNBLOCK_LIMIT = 5
BLOCK_CELLS = 8_000_000
"""Nodes × trials computed at once: 32 MB per int32 matrix."""

CYCLE_TIME = "cycle_time"
SPAN_RATIO = "span_ratio"

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class DurationHistory:
    """A project's own history that task durations are drawn from (see the module docstring)."""

    cycle_times: tuple[int, ...] = ()
    span_ratios: tuple[float, ...] = ()

    @property
    def basis(self) -> str | None:
        if len(self.cycle_times) >= MIN_HISTORY:
            return CYCLE_TIME
        if len(self.span_ratios) >= MIN_HISTORY:
            return SPAN_RATIO
        return None

    def thin_reason(self, project_name: str) -> str:
        return (
            f"{project_name} has {len(self.cycle_times)} cycle time(s) and {len(self.span_ratios)} task(s) completed "
            f"in the last {HISTORY_DAYS} days with a start and a due date; a milestone forecast needs "
            f"{MIN_HISTORY} of either"
        )


def span_ratios(tasks: Sequence[TaskInput], as_of: date) -> tuple[float, ...]:
    """Actual span / planned span of the tasks completed on as_of − 179 … as_of that had both."""
    first = as_of - timedelta(days=HISTORY_DAYS - 1)
    ratios: list[float] = []
    for task in tasks:
        done, start, due = task.completed_on, task.start, task.due
        if not task.completed or done is None or start is None or due is None:
            continue
        if first <= done <= as_of and due >= start and done >= start:
            ratios.append(((done - start).days + 1) / ((due - start).days + 1))
    return tuple(ratios)


def duration_history(tasks: Sequence[TaskInput], as_of: date, cycle_times: Sequence[int] = ()) -> DurationHistory:
    """A project's history from its task set and its flow cycle times (days; empty without flow)."""
    cycles = tuple(int(days) for days in cycle_times)
    if any(days < 1 for days in cycles):
        raise ValueError("cycle times are whole days ≥ 1")
    return DurationHistory(cycle_times=cycles, span_ratios=span_ratios(tasks, as_of))


# --------------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------------


class Network(NamedTuple):
    """Open tasks as nodes 0…n−1 with their predecessors.

    A node's `level` is one more than its deepest predecessor's (0 without any), −1 in and
    after a dependency cycle.  Nodes are numbered by (level, number of dependencies, due, name,
    gid), cyclic ones last: every level is a contiguous run of numbers, and so are its nodes
    with the same number of dependencies; the numbering does not depend on the input order.
    """

    tasks: list[TaskInput]
    after: list[list[int]]
    """Dependency predecessors (finish → start)."""
    within: list[list[int]]
    """Open subtasks (finish → finish)."""
    level: list[int]


def _node_key(task: TaskInput) -> tuple[date, str, str]:
    return (task.due or date.max, task.name, task.gid)


def build_network(roots: Sequence[TaskInput], known: Mapping[str, TaskInput]) -> Network:
    """`roots` and their open predecessors, transitively, among `known` (gid → task)."""
    children: dict[str, list[TaskInput]] = {}
    for task in known.values():
        if task.parent_gid is not None and not task.completed:
            children.setdefault(task.parent_gid, []).append(task)
    found: dict[str, TaskInput] = {}
    stack = [task for task in roots if not task.completed]
    while stack:
        task = stack.pop()
        if task.gid in found:
            continue
        found[task.gid] = task
        for gid in task.dependency_gids:
            dep = known.get(gid)
            if dep is not None and not dep.completed and dep.gid not in found:
                stack.append(dep)
        stack.extend(child for child in children.get(task.gid, ()) if child.gid not in found)
    found_tasks = list(found.values())
    index_of = {task.gid: index for index, task in enumerate(found_tasks)}
    preds = [sorted({index_of[gid] for gid in task.dependency_gids if gid in index_of}) for task in found_tasks]
    subtasks = [sorted(index_of[child.gid] for child in children.get(task.gid, ())) for task in found_tasks]

    n = len(found_tasks)
    successors: list[list[int]] = [[] for _ in range(n)]
    indegree = [0] * n
    for node in range(n):
        for pred in (*preds[node], *subtasks[node]):
            successors[pred].append(node)
            indegree[node] += 1
    depth = [0] * n
    ready = [node for node in range(n) if indegree[node] == 0]
    while ready:
        node = ready.pop()
        for nxt in successors[node]:
            depth[nxt] = max(depth[nxt], depth[node] + 1)
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    unscheduled = n + 1
    for node in range(n):
        if indegree[node] > 0:
            depth[node] = unscheduled

    # Renumber by (level, dependencies, due, name, gid): every level is a contiguous run of
    # numbers, and within it so are the nodes with the same number of dependencies.
    order = sorted(range(n), key=lambda node: (depth[node], len(preds[node]), _node_key(found_tasks[node])))
    number = [0] * n
    for new_number, node in enumerate(order):
        number[node] = new_number
    return Network(
        tasks=[found_tasks[node] for node in order],
        after=[sorted(number[pred] for pred in preds[node]) for node in order],
        within=[sorted(number[child] for child in subtasks[node]) for node in order],
        level=[-1 if depth[node] == unscheduled else depth[node] for node in order],
    )


# --------------------------------------------------------------------------------------------
# Propagation: finish days and the deciding predecessor of every node in every trial
# --------------------------------------------------------------------------------------------


class _Group(NamedTuple):
    """Nodes of one level that have the same number of predecessors of one kind of edge."""

    nodes: IntArray
    local: IntArray
    """Where `nodes` sit in their level's node array."""
    sources: IntArray
    """Predecessors, one row per slot: `sources[j][i]` is the j-th predecessor of `nodes[i]`."""
    span: slice | None
    """`local` as a slice when the nodes are contiguous (always so for dependencies)."""

    def best(self, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """The highest of `values` over each node's predecessors (pairwise maxima: ~10× `reduceat`)."""
        result: npt.NDArray[Any] = values[self.sources[0]]
        for slot in self.sources[1:]:
            np.maximum(result, values[slot], out=result)
        return result


class _Level(NamedTuple):
    first: int
    last: int
    """Nodes first … last − 1."""
    after: tuple[_Group, ...]
    within: tuple[_Group, ...]
    free: IntArray
    """Positions (in the level) of nodes without dependencies: nothing decides their start."""


def _groups(nodes: Sequence[int], preds: list[list[int]]) -> tuple[_Group, ...]:
    by_degree: dict[int, list[int]] = {}
    for node in nodes:
        if preds[node]:
            by_degree.setdefault(len(preds[node]), []).append(node)
    return tuple(
        _Group(
            np.array(having, np.int64),
            np.array(having, np.int64) - nodes[0],
            np.array([[preds[node][slot] for node in having] for slot in range(degree)], np.int64),
            slice(having[0] - nodes[0], having[-1] + 1 - nodes[0]) if having[-1] - having[0] < len(having) else None,
        )
        for degree, having in sorted(by_degree.items())
    )


def _levels(network: Network) -> list[_Level]:
    by_level: dict[int, list[int]] = {}
    for node, level in enumerate(network.level):
        if level >= 0:
            by_level.setdefault(level, []).append(node)
    levels: list[_Level] = []
    for _, nodes in sorted(by_level.items()):
        free = [node - nodes[0] for node in nodes if not network.after[node]]
        levels.append(
            _Level(
                nodes[0],
                nodes[-1] + 1,
                _groups(nodes, network.after),
                _groups(nodes, network.within),
                np.array(free, np.int64),
            )
        )
    return levels


class _Block(NamedTuple):
    """One block of trials.

    `keys[node]` is finish · 2^bits + (2^bits − 1 − node), so that the highest key of a set of
    predecessors names the latest to finish and, on ties, the lowest-numbered.
    `decider[node]` is the key of the predecessor that decided the node's finish in each trial,
    0 when none did: storing the key costs one copy per cell, and only the cells a deciding
    path visits are ever decoded.
    """

    keys: npt.NDArray[Any]
    decider: npt.NDArray[Any]
    bits: int

    def finish(self, node: int) -> IntArray:
        finish: IntArray = (self.keys[node] >> self.bits).astype(np.int64)
        return finish

    def deciders(self) -> IntArray:
        """The deciding predecessor of every node in every trial (−1: none), n × width."""
        mask = (1 << self.bits) - 1
        found: IntArray = mask - (self.decider & mask).astype(np.int64)
        return np.where(self.decider == 0, -1, found)

    def on_path(self, roots: Sequence[int]) -> IntArray:
        """Per root, how many trials of the block each node lies on its deciding path in.

        The root itself is not counted.  The paths of every root and trial are walked
        together, one step per loop; paths that end drop out.
        """
        n, width = self.decider.shape
        mask = (1 << self.bits) - 1
        flat = self.decider.ravel()
        count = len(roots)
        owner = np.repeat(np.arange(count, dtype=np.int64) * n, width)
        trial = np.tile(np.arange(width, dtype=np.int64), count)
        chosen = flat.take(np.repeat(np.array(roots, np.int64) * width, width) + trial)
        totals = np.zeros(count * n, np.int64)
        visited: list[IntArray] = []
        while True:
            going = chosen != 0
            if not going.all():
                chosen, trial, owner = chosen[going], trial[going], owner[going]
            if chosen.size == 0:
                break
            node = mask - (chosen & mask).astype(np.int64)
            visited.append(owner + node)
            if len(visited) == 32:
                totals += np.bincount(np.concatenate(visited), minlength=count * n)
                visited.clear()
            node *= width
            node += trial
            chosen = flat.take(node)
        if visited:
            totals += np.bincount(np.concatenate(visited), minlength=count * n)
        return totals.reshape(count, n)


def _propagate(
    levels: list[_Level], durations: npt.NDArray[Any], keys: npt.NDArray[Any], decider: npt.NDArray[Any]
) -> _Block:
    """Finish days and deciding predecessors of every node for one block of trials.

    `durations` holds every node's drawn durations (a row per node); `keys` and `decider` are
    reused buffers of the same shape — fresh pages cost more than the work.  They are int32, or
    int64 when the longest possible path does not fit 31 bits beside the node number.  Nodes of
    a level are contiguous, so each level works on slices.
    """
    n = len(durations)
    bits = max(1, n.bit_length())
    dtype = keys.dtype
    mask = (1 << bits) - 1
    for level in levels:
        first, last = level.first, level.last
        finish = keys[first:last]
        chosen = decider[first:last]
        finish[...] = durations[first:last]
        chosen[level.free] = 0
        for group in level.after:
            best = group.best(keys)
            if group.span is not None:
                chosen[group.span] = best
                best >>= bits
                finish[group.span] += best
            else:
                chosen[group.local] = best
                finish[group.local] += best >> bits
        for group in level.within:
            best = group.best(keys)
            own = finish[group.local]
            later = (best >> bits) > own
            finish[group.local] = np.where(later, best >> bits, own)
            chosen[group.local] = np.where(later, best, chosen[group.local])
        finish <<= bits
        finish |= (mask - np.arange(first, last, dtype=dtype))[:, None]
    return _Block(keys, decider, bits)


def _longest(levels: list[_Level], durations: IntArray) -> int:
    """The longest path with these durations (one per node): bounds every trial's finish days."""
    finish = np.zeros(len(durations), np.int64)
    for level in levels:
        ends = durations[level.first : level.last].astype(np.int64)
        for group in (*level.after, *level.within):
            ends[group.local] += group.best(finish)
        finish[level.first : level.last] = ends
    return int(finish.max(initial=0))


def propagate_python(network: Network, durations: Sequence[Sequence[int]]) -> tuple[list[list[int]], list[list[int]]]:
    """`_propagate` in plain Python: finish[node][trial] and decider[node][trial]."""
    n = len(network.tasks)
    width = len(durations[0]) if n else 0
    order = sorted((node for node in range(n) if network.level[node] >= 0), key=lambda node: network.level[node])
    finish = [[0] * width for _ in range(n)]
    decider = [[-1] * width for _ in range(n)]
    for node in order:
        after, within = network.after[node], network.within[node]
        own, done, chose = durations[node], finish[node], decider[node]
        for trial in range(width):
            start, pred = 0, -1
            for candidate in after:
                value = finish[candidate][trial]
                if value > start or (value == start and pred >= 0 and candidate < pred):
                    start, pred = value, candidate
            end = start + own[trial]
            last, child = 0, -1
            for candidate in within:
                value = finish[candidate][trial]
                if value > last or (value == last and child >= 0 and candidate < child):
                    last, child = value, candidate
            if last > end:
                end, pred = last, child
            done[trial] = end
            chose[trial] = pred
    return finish, decider


# --------------------------------------------------------------------------------------------
# Durations
# --------------------------------------------------------------------------------------------


class _Durations(NamedTuple):
    """Who draws from what: `table[k]` are the durations class k draws from (uniformly)."""

    tables: list[npt.NDArray[np.int32]]
    members: list[IntArray]
    """The nodes of each class."""
    longest: int
    """The longest path if every node took its longest possible duration."""


def _classes(
    network: Network, levels: list[_Level], home: str, own_gids: set[str], histories: Mapping[str, DurationHistory]
) -> _Durations:
    """Nodes grouped by what they draw from: their project's history and, for span ratios, their span.

    Milestones keep their planned span (a table of one value).  A project without a usable
    history of its own draws from the home project's.
    """
    home_history = histories.get(home, DurationHistory())
    classes: dict[tuple[str, str, int], list[int]] = {}
    tables: dict[tuple[str, str, int], tuple[int, ...]] = {}
    for node, task in enumerate(network.tasks):
        planned = task_days(task)
        project = home if task.gid in own_gids else task.project_gid
        history = histories.get(project, DurationHistory()) if project is not None else DurationHistory()
        if history.basis is None:
            project, history = home, home_history
        assert project is not None
        if task.is_milestone:
            key = ("", "fixed", planned)
        elif history.basis == CYCLE_TIME:
            key = (project, CYCLE_TIME, 0)
        else:
            key = (project, SPAN_RATIO, planned)
        if key not in tables:
            if key[1] == CYCLE_TIME:
                tables[key] = history.cycle_times
            elif key[1] == SPAN_RATIO:
                tables[key] = tuple(max(1, math.ceil(planned * ratio)) for ratio in history.span_ratios)
            else:
                tables[key] = (planned,)
        classes.setdefault(key, []).append(node)
    order = sorted(classes)
    longest = np.zeros(len(network.tasks), np.int64)
    for key in order:
        longest[classes[key]] = max(tables[key])
    return _Durations(
        tables=[np.array(tables[key], np.int32) for key in order],
        members=[np.array(classes[key], np.int64) for key in order],
        longest=_longest(levels, longest),
    )


_REJECT = 255


def _draw_small(table: npt.NDArray[np.int32], size: int, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    """`size` values drawn uniformly from `table` (at most 255 values, each below 255).

    Random bytes (straight from the bit generator, 6× faster than `Generator.bytes`) go
    through `bytes.translate`: byte b < usable = ⌊256/k⌋·k becomes table[b mod k] (every value
    equally likely), the rest a reject marker that `bytes.replace` drops — one C pass per byte
    instead of an index array and a lookup.
    """
    k = len(table)
    usable = (256 // k) * k
    translation = bytes(int(table[b % k]) if b < usable else _REJECT for b in range(256))
    reject = bytes([_REJECT])
    pieces: list[bytes] = []
    missing = size
    while missing > 0:
        words = (missing + missing * (256 - usable) // usable) // 8 + 8
        piece = rng.bit_generator.random_raw(words).tobytes().translate(translation).replace(reject, b"")
        pieces.append(piece)
        missing -= len(piece)
    return np.frombuffer(pieces[0] if len(pieces) == 1 else b"".join(pieces), np.uint8, count=size)


def _draw(durations: _Durations, drawn: npt.NDArray[Any], rng: np.random.Generator) -> npt.NDArray[Any]:
    """One block's durations into `drawn`, a row per node; a class of one value draws nothing."""
    width = drawn.shape[1]
    for table, nodes in zip(durations.tables, durations.members, strict=True):
        shape = (len(nodes), width)
        if len(table) == 1:
            drawn[nodes] = table[0]
        elif len(table) < 256 and table.max() < _REJECT:
            drawn[nodes] = _draw_small(table, shape[0] * shape[1], rng).reshape(shape)
        else:
            drawn[nodes] = table[rng.integers(0, len(table), shape)]
    return drawn


# --------------------------------------------------------------------------------------------
# Forecast
# --------------------------------------------------------------------------------------------


class MilestoneOutlook(NamedTuple):
    """Every open milestone's forecast, and the tasks to unblock first across them."""

    milestones: tuple[MilestoneForecast, ...]
    unblock_first: tuple[UnblockItem, ...]


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
    milestones = sorted((task for task in tasks if task.is_milestone and not task.completed), key=_node_key)
    if not milestones:
        return MilestoneOutlook((), ())
    home_history = histories.get(project_gid, DurationHistory())
    basis = home_history.basis
    network = build_network(milestones, everything)
    node_of = {task.gid: node for node, task in enumerate(network.tasks)}
    roots = [node_of[task.gid] for task in milestones]
    n = len(network.tasks)

    finishes: dict[int, list[IntArray]] = {root: [] for root in roots}
    hits: dict[int, IntArray] = {root: np.zeros(n, np.int64) for root in roots}
    if basis is not None:
        levels = _levels(network)
        durations = _classes(network, levels, project_gid, own_gids, histories)
        wide = durations.longest >= 1 << (30 - max(1, n.bit_length()))
        rng = np.random.default_rng(seed)
        block = max(1, min(trials, BLOCK_CELLS // max(n, 1)))
        scheduled = [root for root in roots if network.level[root] >= 0]
        longest = max(int(table.max(initial=0)) for table in durations.tables)
        drawn = np.empty((n, block), np.uint8 if longest < _REJECT else np.int16 if longest < 1 << 15 else np.int32)
        keys = np.empty((n, block), np.int64 if wide else np.int32)
        decider = np.empty_like(keys)
        for begin in range(0, trials, block):
            width = min(block, trials - begin)
            if width < block:
                drawn, keys, decider = drawn[:, :width].copy(), keys[:, :width].copy(), decider[:, :width].copy()
            result = _propagate(levels, _draw(durations, drawn, rng), keys, decider)
            counted = result.on_path(scheduled)
            for row, root in enumerate(scheduled):
                finishes[root].append(result.finish(root))
                hits[root] += counted[row]

    ancestor_counts = _ancestor_counts(network, roots)
    results: list[MilestoneForecast] = []
    shares: dict[int, tuple[float, int]] = {}  # node → (highest share, milestone node)
    for task, root in zip(milestones, roots, strict=True):
        predecessors = ancestor_counts[root]
        if basis is None or network.level[root] < 0:
            reason = (
                home_history.thin_reason(project_name)
                if basis is None
                else "its predecessors include a dependency cycle, so it has no date"
            )
            results.append(
                MilestoneForecast(
                    task.gid, task.name, project_gid, task.due, None, None, None, basis, reason, 0, predecessors, 0, ()
                )
            )
            continue
        days = np.sort(np.concatenate(finishes[root]))
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
        counted = hits[root]
        on_path = np.flatnonzero(counted)
        ranked = sorted(
            on_path.tolist(),
            key=lambda node: (-counted[node], network.level[node], network.tasks[node].name, network.tasks[node].gid),
        )
        criticality = tuple(
            Criticality(network.tasks[node].gid, network.tasks[node].name, int(counted[node]) / trials)
            for node in ranked[:CRITICALITY_LIMIT]
        )
        for node in ranked:
            share = int(counted[node]) / trials
            if not network.tasks[node].is_milestone and (node not in shares or share > shares[node][0]):
                shares[node] = (share, root)
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
                predecessors,
                len(on_path),
                criticality,
            )
        )

    first = sorted(
        shares,
        key=lambda node: (-shares[node][0], network.level[node], network.tasks[node].name, network.tasks[node].gid),
    )[:UNBLOCK_LIMIT]
    unblock: list[UnblockItem] = []
    for node in first:
        task = network.tasks[node]
        share, root = shares[node]
        milestone = network.tasks[root]
        blockers = sorted(
            {
                dep.gid: dep
                for gid in task.dependency_gids
                if (dep := everything.get(gid)) is not None and not dep.completed
            }.values(),
            key=_node_key,
        )
        unblock.append(
            UnblockItem(
                task=_link(task, project_gid if task.gid in own_gids else task.project_gid),
                share=share,
                milestone_gid=milestone.gid,
                milestone_name=milestone.name,
                milestone_due=milestone.due,
                blocked_by=tuple(
                    _link(dep, project_gid if dep.gid in own_gids else dep.project_gid) for dep in blockers
                ),
            )
        )
    return MilestoneOutlook(tuple(results), tuple(unblock))


def _ancestor_counts(network: Network, roots: Sequence[int]) -> dict[int, int]:
    """How many open predecessors, transitively (dependencies and subtasks), each root has.

    Scheduled nodes carry their ancestors as a bit set, built level by level; a root in or
    after a cycle is counted by a search.
    """
    ancestors: list[int] = [0] * len(network.tasks)
    for node, level in enumerate(network.level):
        if level < 0:
            break
        bits = 0
        for pred in (*network.after[node], *network.within[node]):
            bits |= ancestors[pred] | (1 << pred)
        ancestors[node] = bits
    counts: dict[int, int] = {}
    for root in roots:
        if network.level[root] >= 0:
            counts[root] = ancestors[root].bit_count()
            continue
        seen = {root}
        stack = [root]
        while stack:
            node = stack.pop()
            for pred in (*network.after[node], *network.within[node]):
                if pred not in seen:
                    seen.add(pred)
                    stack.append(pred)
        counts[root] = len(seen) - 1
    return counts
