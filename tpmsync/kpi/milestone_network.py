"""The network a milestone forecast runs over: the milestones and their open predecessors.

The network is the milestones and their open predecessors, transitively: the open tasks they
depend on (in any project, or in none) and, through subtasks, the open subtasks of every task
in it.  Two kinds of edge:

- dependency (finish → start): a task starts when its last open dependency finishes;
- subtask (finish → finish): a parent finishes no earlier than its last open subtask.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from tpmsync.kpi.model.inputs import TaskInput

IntArray = npt.NDArray[np.int64]


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


def node_key(task: TaskInput) -> tuple[date, str, str]:
    """How tasks of one level with as many dependencies are ordered: due, name, gid."""
    return (task.due or date.max, task.name, task.gid)
def build_network(roots: Sequence[TaskInput], known: Mapping[str, TaskInput]) -> Network:
    """`roots` and their open predecessors, transitively, among `known` (gid → task).

    Tasks become numbers once; the search, the levels and the renumbering run on edge arrays.
    """
    candidates = dict(known)
    candidates.update((task.gid, task) for task in roots if not task.completed)
    tasks = [task for task in candidates.values() if not task.completed]
    index = {task.gid: number for number, task in enumerate(tasks)}
    size = len(tasks)
    pairs = [
        number * size + dep
        for number, task in enumerate(tasks)
        for gid in task.dependency_gids
        if (dep := index.get(gid)) is not None
    ]
    nests = [
        (parent, number)
        for number, task in enumerate(tasks)
        if task.parent_gid is not None and (parent := index.get(task.parent_gid)) is not None
    ]
    after_node, after_pred = np.divmod(np.unique(np.array(pairs, np.int64)), max(size, 1))
    nest = np.array(nests, np.int64).reshape(-1, 2)
    # Every edge as (node, predecessor): dependencies (each once), then open subtasks.
    node = np.concatenate([after_node, nest[:, 0]])
    pred = np.concatenate([after_pred, nest[:, 1]])
    is_after = np.arange(len(node)) < len(after_node)

    found = np.zeros(size, bool)
    frontier = np.unique(np.array([index[task.gid] for task in roots if not task.completed], np.int64))
    by_node = np.argsort(node, kind="stable")
    starts = np.searchsorted(node[by_node], np.arange(size + 1))
    while frontier.size:
        found[frontier] = True
        reached = pred[by_node[_ranges(starts[frontier], starts[frontier + 1])]]
        frontier = np.unique(reached[~found[reached]])

    keep = found[node]
    node, pred, is_after = node[keep], pred[keep], is_after[keep]
    members = np.flatnonzero(found)
    depth = _depths(size, node, pred)
    unscheduled = size + 1
    depth[depth < 0] = unscheduled

    # Renumber by (level, dependencies, due, name, gid): every level is a contiguous run of
    # numbers, and within it so are the nodes with the same number of dependencies.
    keyed = sorted(members.tolist(), key=lambda number: node_key(tasks[number]))
    rank = np.zeros(size, np.int64)
    rank[keyed] = np.arange(len(keyed))
    dependencies = np.bincount(node[is_after], minlength=size)
    order = members[np.lexsort((rank[members], dependencies[members], depth[members]))]
    number = np.zeros(size, np.int64)
    number[order] = np.arange(len(order))
    levels = depth[order]
    return Network(
        tasks=[tasks[member] for member in order.tolist()],
        after=_lists(len(order), number[node[is_after]], number[pred[is_after]]),
        within=_lists(len(order), number[node[~is_after]], number[pred[~is_after]]),
        level=np.where(levels == unscheduled, -1, levels).tolist(),
    )


def _ranges(starts: IntArray, ends: IntArray) -> IntArray:
    """starts[0] … ends[0] − 1, starts[1] … ends[1] − 1, …, concatenated."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(total)


def _depths(size: int, node: IntArray, pred: IntArray) -> IntArray:
    """One more than the deepest predecessor (0 without any), level by level; −1 in and after a cycle."""
    waiting = np.bincount(node, minlength=size)
    by_pred = np.argsort(pred, kind="stable")
    starts = np.searchsorted(pred[by_pred], np.arange(size + 1))
    depth = np.full(size, -1, np.int64)
    frontier = np.flatnonzero(waiting == 0)
    level = 0
    while frontier.size:
        depth[frontier] = level
        successors = node[by_pred[_ranges(starts[frontier], starts[frontier + 1])]]
        waiting -= np.bincount(successors, minlength=size)
        touched = np.unique(successors)
        frontier = touched[waiting[touched] == 0]
        level += 1
    return depth


def _lists(count: int, node: IntArray, pred: IntArray) -> list[list[int]]:
    """Each node's predecessors, ascending, from edge arrays."""
    order = np.lexsort((pred, node))
    flat = pred[order].tolist()
    bounds = np.searchsorted(node[order], np.arange(count + 1)).tolist()
    return [flat[bounds[i] : bounds[i + 1]] for i in range(count)]


def ancestor_counts(network: Network, roots: Sequence[int]) -> dict[int, int]:
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
