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

from tpmsync.kpi.model import TaskInput


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
    order = sorted(range(n), key=lambda node: (depth[node], len(preds[node]), node_key(found_tasks[node])))
    number = [0] * n
    for new_number, node in enumerate(order):
        number[node] = new_number
    return Network(
        tasks=[found_tasks[node] for node in order],
        after=[sorted(number[pred] for pred in preds[node]) for node in order],
        within=[sorted(number[child] for child in subtasks[node]) for node in order],
        level=[-1 if depth[node] == unscheduled else depth[node] for node in order],
    )



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
