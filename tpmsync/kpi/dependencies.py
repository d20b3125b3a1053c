"""Dependency health: blocked, conflicts, cross-project, cycles and the critical path (CPM).

The graph for cycles and the critical path has the project's open tasks as nodes and an edge
dependency → task for every dependency whose both ends are open tasks of the set.

Algorithm (linear in nodes + edges, no recursion):

1. Kahn's topological sort.  When it orders every node there is no cycle.
2. Otherwise the nodes it could not order are either in a cycle or downstream of one.  An
   iterative Tarjan over just those nodes finds the strongly connected components; every
   component of more than one node, or a node depending on itself, is one cycle.
3. Cyclic nodes are dropped and Kahn resumes, ordering the nodes downstream of cycles.  The
   critical path is computed over this DAG of the remaining nodes, so a cycle never hides the
   rest of the schedule; the cycle itself is reported under `cycles`.
4. Forward pass (early start/finish), backward pass (late start/finish) and total float per
   task; the critical path is traced back from the task with the latest early finish through
   the predecessors that set each early start.  Nodes are numbered by (due date, name, gid),
   and ties go to the lower number, so the result does not depend on the order of the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import NamedTuple

from tpmsync.kpi.model.dependencies import BlockedTask, Conflict, DependencyKpis, Schedule
from tpmsync.kpi.model.inputs import TaskInput


def task_days(task: TaskInput) -> int:
    """A task's length on the critical path: (due − start) + 1 days when both are set, else 1.

    A task due before it starts counts 1 day (and is listed under data quality).
    """
    if task.due is not None and task.start is not None and task.due >= task.start:
        return (task.due - task.start).days + 1
    return 1


def _kahn(succ: list[list[int]], indegree: list[int], ready: list[int], order: list[int]) -> None:
    """Append to `order` every node reachable from `ready` whose in-degree falls to 0."""
    append = order.append
    while ready:
        node = ready.pop()
        append(node)
        for nxt in succ[node]:
            left = indegree[nxt] - 1
            indegree[nxt] = left
            if left == 0:
                ready.append(nxt)


def strongly_connected_components(nodes: Iterable[int], succ: list[list[int]]) -> list[list[int]]:
    """Tarjan's algorithm without recursion, over `nodes` and what they reach along `succ`."""
    n = len(succ)
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for root in nodes:
        if index[root] >= 0:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        work: list[tuple[int, int]] = [(root, 0)]
        while work:
            node, position = work[-1]
            edges = succ[node]
            if position < len(edges):
                work[-1] = (node, position + 1)
                nxt = edges[position]
                if index[nxt] < 0:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack[nxt] = True
                    work.append((nxt, 0))
                elif on_stack[nxt] and index[nxt] < low[node]:
                    low[node] = index[nxt]
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                if low[node] < low[parent]:
                    low[parent] = low[node]
            if low[node] == index[node]:
                component: list[int] = []
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


class CriticalPath(NamedTuple):
    """CPM result over nodes 0…n−1; `scheduled[node]` is False for nodes in a cycle."""

    path: list[int]
    length: int
    early_start: list[int]
    late_finish: list[int]
    scheduled: list[bool]
    cycles: list[list[int]]


def critical_path(durations: Sequence[int], succ: list[list[int]]) -> CriticalPath:
    """CPM over nodes 0…n−1 with edges `succ` (predecessor → successors).

    The path runs first → last; ties go to the lower node number.  Nodes in a cycle get no
    schedule and the cycles come back as sorted lists of nodes.
    """
    n = len(durations)
    indegree = [0] * n
    for edges in succ:
        for nxt in edges:
            indegree[nxt] += 1
    order: list[int] = []
    # Reversed so that pop() hands out the lowest node first: deterministic, input-ordered ties.
    _kahn(succ, indegree, [node for node in range(n - 1, -1, -1) if indegree[node] == 0], order)

    cycles: list[list[int]] = []
    in_dag = [True] * n
    if len(order) < n:
        ordered = set(order)
        stuck = [node for node in range(n) if node not in ordered]
        for component in strongly_connected_components(stuck, succ):
            if len(component) > 1 or component[0] in succ[component[0]]:
                component.sort()
                cycles.append(component)
                for node in component:
                    in_dag[node] = False
        cycles.sort()
        ready: list[int] = []
        for cycle in cycles:
            for node in cycle:
                for nxt in succ[node]:
                    if in_dag[nxt]:
                        indegree[nxt] -= 1
                        if indegree[nxt] == 0:
                            ready.append(nxt)
        ready.sort(reverse=True)
        _kahn(succ, indegree, ready, order)

    early_start = [0] * n
    best_pred = [-1] * n
    for node in order:
        finish = early_start[node] + durations[node]
        for nxt in succ[node]:
            if finish > early_start[nxt] or (finish == early_start[nxt] and node < best_pred[nxt]):
                early_start[nxt] = finish
                best_pred[nxt] = node
    length = 0
    end = -1
    for node in order:
        finish = early_start[node] + durations[node]
        if finish > length or (finish == length and node < end):
            length = finish
            end = node

    late_finish = [length] * n
    for node in reversed(order):
        latest = length
        for nxt in succ[node]:
            if in_dag[nxt]:
                start = late_finish[nxt] - durations[nxt]
                if start < latest:
                    latest = start
        late_finish[node] = latest

    path: list[int] = []
    node = end
    while node != -1:
        path.append(node)
        node = best_pred[node]
    path.reverse()
    return CriticalPath(path, length, early_start, late_finish, in_dag, cycles)


def _open_deps(dependency_gids: Sequence[str], known: Mapping[str, TaskInput]) -> tuple[TaskInput, ...]:
    """The open tasks among `dependency_gids` that are in `known`, each once."""
    found = (known.get(gid) for gid in dict.fromkeys(dependency_gids))
    return tuple(dep for dep in found if dep is not None and not dep.completed)


def _due_key(task: TaskInput) -> tuple[date, str, str]:
    return (task.due or date.max, task.name, task.gid)


def compute_dependencies(tasks: Sequence[TaskInput], outside_tasks: Sequence[TaskInput], as_of: date) -> DependencyKpis:
    """Dependency KPIs of a project's task set (see docs/kpis.md, "Dependencies").

    Dependencies that are neither in `tasks` nor in `outside_tasks` are unknown and ignored
    here (data quality lists them).
    """
    known: dict[str, TaskInput] = {task.gid: task for task in outside_tasks}
    known.update({task.gid: task for task in tasks})

    # Nodes are numbered in (due, name, gid) order: lists come out sorted, ties are stable.
    open_tasks = sorted((task for task in tasks if not task.completed), key=_due_key)
    node_of = {task.gid: number for number, task in enumerate(open_tasks)}
    succ: list[list[int]] = [[] for _ in open_tasks]

    # One pass over the edges; records are made only for what is reported per edge or per
    # overdue blocker, so that 100,000 blocked tasks cost no more than a list of them.
    blocked: list[TaskInput] = []
    blocked_by_overdue: list[BlockedTask] = []
    conflicts: list[Conflict] = []
    cross_project: dict[str, TaskInput] = {}
    last_seen: dict[str, int] = {}  # dependency gid → the last task that listed it: skips repeats
    for number, task in enumerate(open_tasks):
        dependency_gids = task.dependency_gids
        if not dependency_gids:
            continue
        is_blocked = False
        overdue: list[TaskInput] | None = None
        due = task.due
        for dep_gid in dependency_gids:
            dep = known.get(dep_gid)
            if dep is None or dep.completed or last_seen.get(dep_gid) == number:
                continue
            last_seen[dep_gid] = number
            is_blocked = True
            dep_due = dep.due
            if dep_due is not None:
                if dep_due < as_of:
                    if overdue is None:
                        overdue = []
                    overdue.append(dep)
                if due is not None and dep_due > due:
                    conflicts.append(Conflict(task, dep))
            dep_node = node_of.get(dep_gid)
            if dep_node is not None:
                succ[dep_node].append(number)
            else:
                cross_project[dep_gid] = dep
        if is_blocked:
            blocked.append(task)
            if overdue is not None:
                blocked_by_overdue.append(BlockedTask(task, _open_deps(dependency_gids, known), tuple(overdue)))

    durations = [task_days(task) for task in open_tasks]
    cpm = critical_path(durations, succ)

    return DependencyKpis(
        blocked=tuple(blocked),
        blocked_by_overdue=tuple(blocked_by_overdue),
        conflicts=tuple(conflicts),
        cross_project=tuple(
            sorted(
                cross_project.values(),
                key=lambda t: ((t.project_name or "").casefold(), t.name.casefold(), t.gid),
            )
        ),
        cycles=tuple(tuple(open_tasks[node] for node in cycle) for cycle in cpm.cycles),
        critical_path=tuple(open_tasks[node] for node in cpm.path),
        critical_path_days=cpm.length,
        schedule=Schedule(node_of, durations, cpm.early_start, cpm.late_finish, cpm.scheduled),
        known_tasks=known,
    )
