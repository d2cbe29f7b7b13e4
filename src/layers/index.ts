/**
 * The layer registry: every layer kind, one module each, listed once here. A kind's attribute
 * type follows from its definition, so adding a kind is its module and one line below; the
 * per-backend tables (`satisfies KindTable<...>`) then fail to compile until each has its entry.
 */
import { adaptiveavgpool } from './adaptiveavgpool';
import { add } from './add';
import { avgpool } from './avgpool';
import { bn } from './bn';
import { concat } from './concat';
import { conv } from './conv';
import { convtranspose } from './convtranspose';
import { dropout } from './dropout';
import { flatten } from './flatten';
import { gap } from './gap';
import { gelu } from './gelu';
import { groupnorm } from './groupnorm';
import { hardsigmoid } from './hardsigmoid';
import { hardswish } from './hardswish';
import { identity } from './identity';
import { input } from './input';
import { layernorm } from './layernorm';
import { leakyrelu } from './leakyrelu';
import { linear } from './linear';
import { lrn } from './lrn';
import { maxpool } from './maxpool';
import { mul } from './mul';
import { relu } from './relu';
import { relu6 } from './relu6';
import { scale } from './scale';
import { shuffle } from './shuffle';
import { sigmoid } from './sigmoid';
import { silu } from './silu';
import { slice } from './slice';
import { softmax } from './softmax';
import { tanh } from './tanh';
import { upsample } from './upsample';
import type { LayerDef, LayerSpec } from './types';

export const LAYER_DEFS = {
  input,
  conv,
  linear,
  bn,
  relu,
  sigmoid,
  tanh,
  leakyrelu,
  softmax,
  maxpool,
  avgpool,
  gap,
  adaptiveavgpool,
  lrn,
  dropout,
  flatten,
  add,
  concat,
  mul,
  layernorm,
  groupnorm,
  scale,
  shuffle,
  slice,
  relu6,
  hardswish,
  hardsigmoid,
  silu,
  gelu,
  identity,
  upsample,
  convtranspose,
};

type Defs = typeof LAYER_DEFS;

export type LayerKind = keyof Defs;

/** A layer with every argument resolved: what expansion makes and the analysis and engines read. */
export type LayerAttrs = { [K in LayerKind]: Defs[K] extends LayerDef<infer A> ? A : never }[LayerKind];

export type AttrsOf<K extends LayerKind> = Extract<LayerAttrs, { kind: K }>;

/**
 * One entry per kind, each typed for its own attributes: what a backend or exporter keeps, and
 * what the type checker keeps complete.
 */
export type KindTable<F extends (attrs: never, ...rest: never[]) => unknown> = {
  [K in LayerKind]: (attrs: AttrsOf<K>, ...rest: Parameters<F> extends [unknown, ...infer R] ? R : never) => ReturnType<F>;
};

/** Calls a table's entry for the attributes' kind (the one place the per-kind type is widened). */
export function dispatch<F extends (attrs: never, ...rest: never[]) => unknown>(
  table: KindTable<F>,
  attrs: LayerAttrs,
  ...rest: Parameters<F> extends [unknown, ...infer R] ? R : never
): ReturnType<F> {
  const entry = table[attrs.kind] as unknown as (a: LayerAttrs, ...r: typeof rest) => ReturnType<F>;
  return entry(attrs, ...rest);
}

/** Element-wise activations (`fusion.activation`): every engine has an epilogue for each. */
export type ActivationKind = { [K in LayerKind]: Defs[K] extends { fusion: { activation: true } } ? K : never }[LayerKind];

export type ActivationAttrs = AttrsOf<ActivationKind>;

/** A table with one entry per activation kind, each typed for its attributes. */
export type ActivationTable<R> = { [K in ActivationKind]: (attrs: AttrsOf<K>) => R };

export function isActivation(attrs: LayerAttrs): attrs is ActivationAttrs {
  return layerDef(attrs).fusion?.activation === true;
}

/** An activation table's entry for the attributes' kind. */
export function activationEntry<R>(table: ActivationTable<R>, attrs: ActivationAttrs): R {
  return (table[attrs.kind] as (a: ActivationAttrs) => R)(attrs);
}

/** The definition of a layer's kind. */
export function layerDef<A extends LayerAttrs>(attrs: A): LayerDef<A> {
  return LAYER_DEFS[attrs.kind as LayerKind] as unknown as LayerDef<A>;
}

export function defOfKind(kind: LayerKind): LayerDef<LayerAttrs> {
  return LAYER_DEFS[kind] as unknown as LayerDef<LayerAttrs>;
}

/** Every layer keyword's spec, in the registry's order: what completion lists. */
export const LAYERS: LayerSpec[] = Object.values(LAYER_DEFS)
  .map((d: LayerDef<LayerAttrs>) => d.spec)
  .filter((s): s is LayerSpec => s !== undefined);

const BY_NAME = new Map<string, { spec: LayerSpec; def: LayerDef<LayerAttrs> }>();
for (const def of Object.values(LAYER_DEFS) as LayerDef<LayerAttrs>[]) {
  if (!def.spec) continue;
  for (const name of [def.spec.keyword, ...def.spec.aliases]) BY_NAME.set(name, { spec: def.spec, def });
}

/** The spec of a layer keyword or alias. */
export function layerSpec(name: string): LayerSpec | undefined {
  return BY_NAME.get(name)?.spec;
}

/** The definition a layer keyword or alias names. */
export function defOfKeyword(name: string): LayerDef<LayerAttrs> | undefined {
  return BY_NAME.get(name)?.def;
}

export function allLayerNames(): string[] {
  return [...BY_NAME.keys()];
}

export function argSpec(layer: LayerSpec, name: string) {
  return layer.args.find((a) => a.name === name || a.aliases.includes(name));
}

/** A layer's short description, as one would write it (the panel's labels). */
export function describeLayer(attrs: LayerAttrs): string {
  const def = layerDef(attrs);
  return def.describe ? def.describe(attrs) : attrs.kind;
}

/** Whether the network's output layer already gives probabilities (ends in softmax). */
export function givesProbabilities(attrs: LayerAttrs): boolean {
  return layerDef(attrs).probabilities === true;
}

export { closest, editDistance } from './suggest';
export { isPointwise, pointwiseConv } from './linear';
export * from './types';
