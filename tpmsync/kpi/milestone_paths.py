"""Finish days through a milestone network, and the paths that decide them, for blocks of trials.

A trial's finish day of a node is its drawn duration after its last dependency finishes, and no
earlier than its last open subtask.  The predecessor that decides it is the dependency that
finished last or, when a subtask finishes after the node's own work, that subtask (ties: the
lower node number).  The decider is stored as a slot — 1 + its position in the node's
dependencies then subtasks, 0 when none decides — a byte per node and trial, and turned back
into a node only along the paths that are walked for criticality.

How it stays fast: nodes are grouped into levels (a node's level is one more than its deepest
predecessor's), each level a contiguous run of node numbers, and every level is computed for a
block of trials at once with numpy, on 16-bit finish days when the longest possible path fits.
`propagate_python` is the same propagation in plain Python (tests compare the two, the benchmark
times both).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from tpmsync.kpi.milestone_network import Network

IntArray = npt.NDArray[np.int64]


class _Group(NamedTuple):
    """Nodes of one level that have the same number of predecessors of one kind of edge."""

    local: IntArray | slice
    """Where the nodes sit in their level: a slice when they are contiguous, always so for dependencies
    (a level's nodes are numbered by their number of dependencies), which `propagate` relies on."""
    sources: IntArray
    """Predecessors, one row per slot: `sources[j][i]` is the j-th predecessor of the i-th node."""
    first_slot: npt.NDArray[Any]
    """The decider slot of `sources[0]`, per node, as a column of the plan's slot type: 1 for dependencies."""

    def best(self, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """The highest of `values` over each node's predecessors (pairwise maxima: ~10× `reduceat`)."""
        result: npt.NDArray[Any] = values[self.sources[0]]
        for slot in self.sources[1:]:
            np.maximum(result, values[slot], out=result)
        return result

    def decide(self, finish: npt.NDArray[Any], slot: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """The latest finish over each node's predecessors; the slot of the first that set it into `slot`."""
        best: npt.NDArray[Any] = finish[self.sources[0]]
        if len(self.sources) == 1:
            slot[...] = self.first_slot
        for offset, row in enumerate(self.sources[1:], start=1):
            other = finish[row]
            later = other > best
            if offset == 1:
                np.add(later.view(np.uint8), self.first_slot, out=slot)
            else:
                np.copyto(slot, self.first_slot + offset, where=later)
            np.maximum(best, other, out=best)
        return best


class _Level(NamedTuple):
    first: int
    last: int
    """Nodes first … last − 1."""
    after: tuple[_Group, ...]
    within: tuple[_Group, ...]
    free: slice
    """Positions (in the level) of nodes without dependencies: they come first in a level."""


class Plan(NamedTuple):
    """How to compute a network's levels, and how to turn a decider slot back into a node."""

    levels: list[_Level]
    preds: IntArray
    """Slot s of node v is node preds[base[v] + s]: n (none) for slot 0, then v's dependencies and
    subtasks; any slot of n is n."""
    base: IntArray
    """Where each node's block starts in `preds`, for nodes 0 … n."""
    slot_type: np.dtype[Any]
    """The smallest unsigned type that holds every slot."""


def _groups(
    nodes: Sequence[int], preds: list[list[int]], first_slot: Sequence[int], slot_type: np.dtype[Any]
) -> tuple[_Group, ...]:
    by_degree: dict[int, list[int]] = {}
    for node in nodes:
        if preds[node]:
            by_degree.setdefault(len(preds[node]), []).append(node)
    groups: list[_Group] = []
    for degree, having in sorted(by_degree.items()):
        local = np.array(having, np.int64) - nodes[0]
        contiguous = having[-1] - having[0] == len(having) - 1
        groups.append(
            _Group(
                slice(int(local[0]), int(local[-1]) + 1) if contiguous else local,
                np.array([[preds[node][slot] for node in having] for slot in range(degree)], np.int64),
                np.array([first_slot[node] for node in having], slot_type)[:, None],
            )
        )
    return tuple(groups)


def plan(network: Network) -> Plan:
    """Levels and groups of a network's scheduled nodes (those not in or after a cycle)."""
    by_level: dict[int, list[int]] = {}
    for node, level in enumerate(network.level):
        if level >= 0:
            by_level.setdefault(level, []).append(node)
    # Each node's block of `preds`: node n (none), then its dependencies, then its subtasks; a
    # last block for node n itself leads every slot back to n.
    n = len(network.tasks)
    degrees = np.array(
        [len(after) + len(within) for after, within in zip(network.after, network.within, strict=True)], np.int64
    )
    most = int(degrees.max(initial=0))
    flat = [
        pred for after, within in zip(network.after, network.within, strict=True) for pred in (n, *after, *within)
    ]
    base = np.zeros(n + 1, np.int64)
    base[1:] = np.cumsum(degrees + 1)
    slot_type = np.dtype(np.uint8 if most < 1 << 8 else np.uint16 if most < 1 << 16 else np.uint32)
    ones = [1] * len(network.tasks)
    after_count = [1 + len(after) for after in network.after]
    levels: list[_Level] = []
    for _, nodes in sorted(by_level.items()):
        free = sum(1 for node in nodes if not network.after[node])
        after = _groups(nodes, network.after, ones, slot_type)
        assert all(isinstance(group.local, slice) for group in after)  # numbered by dependency count
        levels.append(
            _Level(
                nodes[0],
                nodes[-1] + 1,
                after,
                _groups(nodes, network.within, after_count, slot_type),
                slice(0, free),
            )
        )
    return Plan(levels, np.array([*flat, *[n] * (most + 1)], np.int64), base, slot_type)


def longest(plan: Plan, durations: IntArray) -> int:
    """The longest path with these durations (one per node): bounds every trial's finish days."""
    finish = np.zeros(len(durations), np.int64)
    for level in plan.levels:
        ends = durations[level.first : level.last].astype(np.int64)
        for group in level.after:
            ends[group.local] += group.best(finish)
        for group in level.within:
            ends[group.local] = np.maximum(ends[group.local], group.best(finish))
        finish[level.first : level.last] = ends
    return int(finish.max(initial=0))


def finish_type(plan: Plan, durations: IntArray) -> np.dtype[Any]:
    """int16 finish days when the longest possible path fits, else int32 (int64 past that)."""
    most = longest(plan, durations)
    return np.dtype(np.int16 if most < 1 << 15 else np.int32 if most < 1 << 31 else np.int64)


class Block(NamedTuple):
    """One block of trials: `finish[node]` and `decider[node]` (slots), a column per trial."""

    finish: npt.NDArray[Any]
    decider: npt.NDArray[Any]
    plan: Plan

    def deciders(self) -> IntArray:
        """The deciding predecessor of every node in every trial (−1: none), n × width."""
        n = len(self.decider)
        found: IntArray = self.plan.preds[self.plan.base[:n, None] + self.decider]
        return np.where(found == n, -1, found)

    def on_path(self, roots: Sequence[int]) -> IntArray:
        """Per root, how many trials of the block each node lies on its deciding path in.

        The root itself is not counted.  The paths of every root and trial are walked together,
        one step per loop; a path that ends stays on node n (its cell index is clipped to the
        last cell, and every slot of n leads to n), and every few steps the ended paths drop out.
        """
        n, width = self.decider.shape
        count = len(roots)
        index = np.int32 if (n + 1) * max(width, count) < 1 << 31 else np.int64
        flat = self.decider.ravel()
        preds, base = self.plan.preds.astype(index), self.plan.base.astype(index)
        owner = np.repeat(np.arange(count, dtype=index) * (n + 1), width)
        trial = np.tile(np.arange(width, dtype=index), count)
        node = np.repeat(np.array(roots, index), width)
        totals = np.zeros(count * (n + 1), np.int64)
        visited: list[npt.NDArray[Any]] = []
        while node.size:
            for _ in range(_STEPS):
                cell = node * width
                cell += trial
                node = preds.take(base.take(node) + flat.take(cell, mode="clip"))
                visited.append(owner + node)
            totals += np.bincount(np.concatenate(visited), minlength=count * (n + 1))
            visited.clear()
            going = node != n
            node, trial, owner = node[going], trial[going], owner[going]
        return totals.reshape(count, n + 1)[:, :n]


_STEPS = 4
"""Steps walked between dropping the paths that ended."""


def propagate(plan: Plan, finish: npt.NDArray[Any], decider: npt.NDArray[Any]) -> Block:
    """Finish days and deciding slots of every scheduled node for one block of trials.

    `finish` holds every node's drawn durations (a row per node) and becomes the finish days;
    `decider` is a buffer of the same shape and `plan.slot_type`; nodes in or after a cycle
    (numbered last) get slot 0 there, so that every cell holds a valid slot.  Nodes of a level
    are contiguous, so each level works on slices.
    """
    decider[plan.levels[-1].last if plan.levels else 0 :] = 0
    for level in plan.levels:
        own = finish[level.first : level.last]
        chosen = decider[level.first : level.last]
        chosen[level.free] = 0
        for group in level.after:
            own[group.local] += group.decide(finish, chosen[group.local])
        for group in level.within:
            slot = np.empty((len(group.first_slot), own.shape[1]), decider.dtype)
            best = group.decide(finish, slot)
            mine = own[group.local]
            later = best > mine
            own[group.local] = np.where(later, best, mine)
            chosen[group.local] = np.where(later, slot, chosen[group.local])
    return Block(finish, decider, plan)


def propagate_python(network: Network, durations: Sequence[Sequence[int]]) -> tuple[list[list[int]], list[list[int]]]:
    """`propagate` in plain Python: finish[node][trial] and decider[node][trial] (the node, −1 for none)."""
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
