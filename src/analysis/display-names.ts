/**
 * Layer names for people: a labelled layer is its path (`layer1.0.conv1`); an unlabelled one,
 * whose path ends in its statement number (`features.3`), is its kind and its place among the
 * layers of that kind in the same parent, counting from 1 (`features › conv 2`). The numbers of
 * paths count every statement, so `features.3` says nothing about which conv it is; the kind's
 * own count does. Parameter names (`cnn params`, exports, safetensors) keep the paths: this is
 * for display only (the panel's graph, table, benchmark and pickers; an editor's hover may use it).
 */
import type { GraphNode } from '../graph/types';

export const NAME_SEPARATOR = ' › ';

/** Each node's display name, by node id. Unique within a graph, as paths are. */
export function displayNames(nodes: readonly Pick<GraphNode, 'path' | 'attrs'>[]): string[] {
  const counts = new Map<string, number>();
  return nodes.map((n) => {
    const dot = n.path.lastIndexOf('.');
    const last = n.path.slice(dot + 1);
    if (!/^\d+$/.test(last)) return n.path || n.attrs.kind;
    const parent = dot < 0 ? '' : n.path.slice(0, dot);
    const key = `${parent}\u0000${n.attrs.kind}`;
    const k = (counts.get(key) ?? 0) + 1;
    counts.set(key, k);
    return `${parent ? parent + NAME_SEPARATOR : ''}${n.attrs.kind} ${k}`;
  });
}

/** One node's display name (a hover's): `displayNames` of its graph, for that node. */
export function displayName(nodes: readonly Pick<GraphNode, 'path' | 'attrs'>[], id: number): string {
  return displayNames(nodes.slice(0, id + 1))[id];
}
