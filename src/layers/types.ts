/**
 * What a layer kind is made of. Every kind is one module in this folder that exports one
 * `LayerDef`; `index.ts` lists them. The expansion, the analysis, the editor, the engines and the
 * exporters read a kind's knowledge from its definition, or from a table keyed by kind that the
 * type checker keeps complete (see docs/architecture.md).
 *
 * Plain TypeScript: runs in the language server's web worker and in the webview.
 */
import type { DiagnosticCode, Fix } from '../language/diagnostics';
import type { Position } from '../language/range';

/** Height and width. */
export type Pair = [number, number];

/** `[C, H, W]` for a spatial tensor, `[N]` for a flat one; never the batch. */
export type Shape = number[];

export interface ReceptiveField {
  /** Size in input pixels, per dimension: the largest field of an output pixel. */
  size: Pair;
  /** Effective stride: input pixels per output pixel, the product of strides on the way; a fraction after upsampling. */
  stride: Pair;
  /** Effective padding: how far the field of output pixel 0 reaches before the input's start. */
  padding: Pair;
}

export type TensorRole = 'weight' | 'bias' | 'running_mean' | 'running_var';

/** A parameter or buffer of one layer, before it has a name. */
export interface TensorSpec {
  role: TensorRole;
  shape: number[];
  kind: 'param' | 'buffer';
  /** Every value's starting value in seeded weights and the PyTorch export, where it is not the role's usual one. */
  fill?: number;
}

export type ArgType =
  /** a positive integer */
  | 'int'
  /** a non-negative integer */
  | 'count'
  /** an integer or a height x width pair of positive integers */
  | 'size'
  /** like size but non-negative, or `same` */
  | 'pad'
  | 'bool'
  /** any number */
  | 'number'
  /** `0 <= p < 1` */
  | 'prob'
  /** `CxHxW` or `N` */
  | 'shape'
  /** one of `choices`, written as a bare word: `mode=bilinear` */
  | 'choice';

export interface ArgSpec {
  name: string;
  aliases: string[];
  type: ArgType;
  /** Shown in completion and hover; absent for required arguments. */
  default?: string;
  required?: boolean;
  /** May be written without its name, in this order. */
  positional?: boolean;
  /** The words a `choice` argument takes. */
  choices?: string[];
  doc: string;
}

/** What completion, signature help and hover show of a layer keyword. */
export interface LayerSpec {
  keyword: string;
  aliases: string[];
  args: ArgSpec[];
  doc: string;
  /** Output shape in words. */
  output: string;
}

/** An argument's value after its type check. */
export type ArgValue = number | boolean | Pair | number[] | string;

/** A layer statement's arguments as its builder reads them, each already checked against its type. */
export interface BoundArgs {
  get(name: string): ArgValue | undefined;
  pair(name: string, dflt: Pair): Pair;
  num(name: string, dflt: number): number;
  bool(name: string, dflt: boolean): boolean;
  /** True when the statement wrote the argument (by name or position). */
  written(name: string): boolean;
  /** An error at the argument as written (the statement where it was not). */
  error(name: string, code: DiagnosticCode, message: string): void;
}

/** A problem the shape rule finds at a layer; the analysis adds the position and call chain. */
export interface LayerProblem {
  code: DiagnosticCode;
  severity: 'error' | 'warning';
  message: string;
  fixes?: Fix[];
}

export interface ShapeContext {
  report(problem: LayerProblem): void;
  /** Where the layer's statement starts: for fixes that insert a statement before it. */
  readonly start: Position;
  /** An `add` made by `residual`: its inputs are the body's output, then the shortcut's. */
  readonly residual: boolean;
}

/**
 * One layer statement as the editor sees it, for a kind's `suggest` hook: the figures of one
 * expansion (the first one with a problem, else the first) and how the statement is written.
 */
export interface SuggestSite {
  /** The inputs' shapes (a residual's: the body's output, then the shortcut's). */
  inputs: readonly Shape[];
  /** Null where the shape rule gave none (an empty output). */
  output: Shape | null;
  params: number;
  macs: number;
  /** What the analysis reported at this layer in that expansion. */
  problems: readonly { code: DiagnosticCode; message: string }[];
  /** An argument's source text as written (by name or position), else undefined. */
  written(name: string): string | undefined;
  /** Every expansion with a problem at this layer (this one first), or this one alone. */
  each: readonly { inputs: readonly Shape[]; output: Shape | null }[];
  /**
   * A number as the statement's scope would write it: inside a block, an expression of its
   * parameters with this value (one value per entry of `each`, or one for this expansion),
   * one written as the argument `role` first: `c*4` rather than `256`; else the number.
   */
  express(values: number | readonly number[], role?: string): string;
  /** `1,234,567` and `1.23M`, as the editor prints figures. */
  grouped(n: number): string;
  compact(n: number): string;
  /** An `add` made by `residual`; `shortcut` says whether it has a shortcut with statements. */
  readonly residual: boolean;
  readonly shortcut: boolean;
}

/** What a suggestion changes; the editor turns it into text edits. */
export type SuggestEdit =
  /** Sets arguments of the statement, replacing them where written. */
  | { set: [name: string, value: string][] }
  /** Replaces the statement by these statements (a labelled one becomes a labelled group). */
  | { replace: string[] }
  /** Gives a `residual` with no shortcut (or an empty one) this shortcut body. */
  | { shortcut: string[] }
  /** Appends these statements to the branch of a merge that gives its input `branch`. */
  | { append: [branch: number, statements: string[]] };

/** A quick fix (it names the problems it fixes) or a rewrite the editor offers at a statement. */
export interface Suggestion {
  title: string;
  /** The codes of the problems it fixes: a quick fix for those; absent, a refactoring. */
  fixes?: DiagnosticCode[];
  preferred?: boolean;
  edit: SuggestEdit;
}

/** A layer's figures, for its hover formulas. */
export interface FormulaContext {
  params: number;
  buffers: number;
  macs: number;
  /** How compute is counted: multiply-accumulates, or FLOPs as 2 × MACs. */
  flops: 'mac' | '2xmac';
  /** A number with thousands separators. */
  grouped(n: number): string;
}

/** Colour families of the panel's graph and table. */
export type Family = 'input' | 'conv' | 'linear' | 'pool' | 'norm' | 'act' | 'merge' | 'reshape';

/**
 * How the engines' shared execution plan (src/engine/plan.ts) may fuse a layer. Both engines
 * must then honour it: a kind marked `activation` needs an epilogue entry in each engine.
 */
export interface FusionTraits {
  /** Output is the input's buffer read another way (flatten, identity at inference). */
  alias?: boolean;
  /** Element-wise activation that a producer may apply in its epilogue. */
  activation?: boolean;
  /** A per-channel scale and shift at inference (batch norm): folds into a producer that `foldsBatchNorm`. */
  affine?: boolean;
  /** A following `affine` layer folds into this layer's weights. */
  foldsBatchNorm?: boolean;
  /** An element-wise sum of its inputs. */
  sums?: boolean;
  /** A following two-input `sums` may run in this layer's epilogue (the residual add). */
  takesResidual?: boolean;
  /** A following activation may run in this layer's epilogue. */
  takesActivation?: boolean;
  /** Producers may write straight into this layer's output buffer, each at its channel offset. */
  concatenates?: boolean;
}

/** One layer kind: everything the language, the analysis and the editor know of it. */
export interface LayerDef<A extends { kind: string }> {
  kind: A['kind'];
  /** The keyword and its arguments; absent for merges, which compositions make. */
  spec?: LayerSpec;
  /**
   * A merge: made by a composition (`residual`, `add`, `concat`), it takes any number of inputs,
   * and its receptive field is the widest of its inputs' (the contract's rule through merges).
   */
  merge?: true;
  family: Family;
  /** Attributes from bound arguments; undefined (with errors reported) when values do not fit together. */
  build?(args: BoundArgs): A | undefined;
  /** The output shape from the inputs' shapes (never empty), reporting what is wrong; null when unknown. */
  shape(a: A, inputs: readonly Shape[], ctx: ShapeContext): Shape | null;
  /** Learned parameters (-1 or absent: the layer owns no tensors). */
  params?(a: A, input: Shape, output: Shape): number;
  /** Buffer values (a batch norm's running statistics). */
  buffers?(a: A, input: Shape, output: Shape): number;
  /** The tensors counted by `params` and `buffers`, in state_dict order. */
  tensors?(a: A, input: Shape, output: Shape): TensorSpec[];
  /**
   * Its one tensor is named by the layer's path alone, with no role suffix: a bare parameter of
   * the enclosing module, as torchvision's `features.1.0.layer_scale` (docs/naming.md).
   */
  namedByPath?: true;
  /** Multiply-accumulates (conv and linear only: the headline figure). */
  macs?(a: A, input: Shape, output: Shape): number;
  /** Element-wise operations, reported apart from MACs. */
  ops?(a: A, inputs: readonly (Shape | null)[], output: Shape): number;
  /**
   * The layer's own window over its input: a field, 'pointwise' (each output sees one input
   * pixel), or null where the receptive field ends (a flat tensor).
   */
  field(a: A, input: Shape | null): ReceptiveField | 'pointwise' | null;
  /** The own field depends on the attributes alone: the expansion cache keeps it per attributes object. */
  fieldFromAttrs?: true;
  /** Hover lines with this layer's numbers in its formulas (shapes known). */
  formulas?(a: A, input: Shape, output: Shape, f: FormulaContext): string[];
  /** Short, as one would write it, for the panel: `conv 64 k11 s4 p2`. */
  describe?(a: A): string;
  fusion?: FusionTraits;
  /** Its output is a probability distribution over channels (softmax): no softmax is applied for a top-k. */
  probabilities?: true;
  /** The editor's quick fixes and rewrites for one of its statements (src/server/actions.ts applies them). */
  suggest?(a: A, site: SuggestSite): Suggestion[];
  /**
   * A kind whose output pixels do not each read an affine window of its input (upsampling,
   * transposed convolution): which input pixels each output pixel reads, per dimension (height,
   * width). The analysis composes receptive fields from it exactly; `field` gives its figures.
   */
  resampling?(a: A, input: Shape): [Resampling, Resampling];
}

/** `[n, n]` for small n, one frozen array each: long networks share their layers' pairs. */
const SQUARES: Pair[] = Array.from({ length: 33 }, (_, n) => Object.freeze([n, n]) as unknown as Pair);

export function pairOf(h: number, w: number): Pair {
  return h === w && h >= 0 && h < SQUARES.length && Number.isInteger(h) ? SQUARES[h] : [h, w];
}

export const ONE: Pair = SQUARES[1];
export const ZERO: Pair = SQUARES[0];

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: readonly number[] | null): string {
  return shape ? shape.join('×') : '?';
}

/** `3` for a square pair, `3x5` otherwise, as one writes it. */
export function pairText(p: readonly number[]): string {
  return p[0] === p[1] ? `${p[0]}` : `${p[0]}x${p[1]}`;
}

/**
 * One dimension of a layer whose output pixels do not each read an affine window of its input:
 * output pixel `o` reads the input pixels `taps(o mod period)[i] + advance·floor(o / period)`,
 * ascending, or none (a transposed convolution's output pixel that only its bias reaches).
 * Positions past the input's edges are padding, as a conv's are.
 */
export interface Resampling {
  period: number;
  advance: number;
  taps(phase: number): readonly number[];
}
