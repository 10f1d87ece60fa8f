"""Which Ray node owns which shard: rendezvous hashing of shard ids over the live nodes,
bounded so that they spread evenly.

A shard's data dir is read and written on its node; when nodes come or go, only the shards
the change wins or loses move (the same rule as repos over shards).
"""

from __future__ import annotations

from .shards import weight


def nodes(ray) -> list[str]:
    """The ids of the live nodes that run tasks (have CPUs), sorted."""
    return sorted(
        n["NodeID"] for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU")
    )


def place(shards: list[str], node_ids: list[str]) -> dict[str, str]:
    """shard -> node: rendezvous weights with bounded loads (at most ceil(shards / nodes)
    each). The (shard, node) pairs are taken by descending weight, so a shard keeps its
    favourite node unless that node is full: shards spread evenly and a node change moves
    few of them."""
    if not node_ids:
        raise RuntimeError("the Ray cluster has no live node with CPUs")
    room = -(-len(shards) // len(node_ids))
    load = dict.fromkeys(node_ids, 0)
    pairs = sorted(
        ((weight(n, s), n, s) for s in shards for n in node_ids), key=lambda p: (-p[0], p[1], p[2])
    )
    out: dict[str, str] = {}
    for _w, node, shard in pairs:
        if shard not in out and load[node] < room:
            out[shard] = node
            load[node] += 1
    return out


def on_node(ray, node_id: str, soft: bool = False):
    """A scheduling strategy pinning a task or actor to `node_id` (soft: elsewhere when it
    is gone)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return NodeAffinitySchedulingStrategy(node_id, soft=soft)
