/** What the expansion cache (cache.ts) records of a block call, and where a graph holds a copy of it. */
import type { LayerAttrs } from '../layers';

/** A statement of a block, by its place in a depth-first walk of the block's body. */
export interface StatementRef {
  block: string;
  index: number;
}

/** One layer of a recorded expansion, relative to the call. */
export interface TemplateNode {
  /** Shared by every copy: attributes are never changed after expansion. */
  attrs: LayerAttrs;
  /** Template indices; -1 is the tensor that flows into the call. */
  inputs: number[];
  /** Appended to the call's path: '' or `.conv1`. */
  suffix: string;
  stmt: StatementRef;
  /** Index in `Template.chains` of the calls nested inside this one, or -1 for none. */
  chain: number;
  aux: boolean;
  residual: boolean;
}

/** What `analyzeGraph` found for one layer of a template, for one input shape. */
export interface TemplateLayer {
  shape: number[] | null;
  inputShapes: (number[] | null)[];
  params: number;
  buffers: number;
  macs: number;
  ops: number;
  activationBytes: number;
  ownField: unknown;
  owner: boolean;
}

export interface Template {
  /** Blocks expanded inside the call (transitively), with the fingerprint they had. */
  deps: [string, number][];
  nodes: TemplateNode[];
  /** Call sites nested inside the call: the call statement, and the enclosing site (-1: none). */
  sites: { block: string; stmt: StatementRef; parent: number }[];
  /** Each distinct chain of nested sites, outermost first. */
  chains: number[][];
  auxOutputs: number[];
  /** The flow out of the call: a template index, -1 for the flow in, null for unknown. */
  output: number | null;
  steps: number;
  /** Layer figures by input shape and dtype. */
  analyses: Map<string, TemplateLayer[]>;
}

/** A copy of a template in a graph: nodes `start .. start + template.nodes.length - 1`. */
export interface TemplateSpan {
  start: number;
  /** The node that flows into the call. */
  input: number;
  template: Template;
}

