import type { DType, TypedData } from '../../dtype';

/**
 * The op schema's vocabulary: how one op is declared once — named inputs and
 * outputs, typed attributes with defaults, accepted dtypes, in-place pairs,
 * layouts, output inference — so that the argument checks, the native call,
 * the planner's metadata and the ONNX mapping all come from that one entry.
 * See docs/adding-an-op.md. (Not marked internal: the public runOp and
 * TypedTensor types name AttrValue; a file-level internal tag would strip the
 * declaration after it from the .d.ts.)
 */

export type AttrValue = number | readonly number[] | string | readonly string[];

export interface AttrSpec {
  type: 'int' | 'float' | 'ints' | 'floats' | 'string' | 'strings';
  /** Used when the node does not set the attribute; absent and no default: not passed. */
  default?: AttrValue;
  /** A string attribute's accepted values (each of a strings attribute's). */
  values?: readonly string[];
  /** Must be set (no default makes sense). */
  required?: boolean;
}

export interface InputSpec {
  name: string;
  /** Accepted dtypes. */
  dtypes: readonly DType[];
  /** May be omitted (an empty name in ONNX). */
  optional?: boolean;
  /** Takes any number of tensors (the last input only), at least one. */
  variadic?: boolean;
  /** Its values must be known when the model is planned (shapes, axes, sizes). */
  constant?: boolean;
}

export interface OutputSpec {
  name: string;
  optional?: boolean;
  /** Any number of outputs (the last output only): Split. */
  variadic?: boolean;
}

/** What the inference of an op sees of one input. */
export interface InferInput {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** The values, when the input is a constant at planning time. */
  readonly value?: TypedData;
}

/** An inferred output: dtype and shape, and its values when known at planning time. */
export interface OutInfo {
  dtype: DType;
  shape: number[];
  /** Set when the op is evaluated in JS at planning time (Shape, Size, ...): no kernel runs. */
  value?: TypedData;
}

export interface InferCtx {
  /** The op, for messages. */
  readonly op: string;
  readonly inputs: readonly (InferInput | undefined)[];
  /** How many outputs the node has (Split's count). */
  readonly numOutputs: number;
  /** Input i (an error when it is omitted). */
  input(i: number): InferInput;
  /** Whether input i is given. */
  has(i: number): boolean;
  /** Input i's values as numbers (an error when it is not a planning-time constant); undefined when omitted. */
  values(i: number): number[] | undefined;
  /** Attribute values (defaults applied). */
  int(name: string): number;
  float(name: string): number;
  ints(name: string): number[] | undefined;
  floats(name: string): number[] | undefined;
  str(name: string): string;
  strs(name: string): string[] | undefined;
  /** Whether the node sets the attribute or the schema gives it a default. */
  hasAttr(name: string): boolean;
  /** The inputs or attributes are inconsistent: RangeError / ERR_NEONN_ONNX_INVALID. */
  fail(message: string): never;
  /** A valid use neonn does not implement: ERR_NEONN_ONNX_UNSUPPORTED. */
  unsupported(message: string): never;
}

/** A node as the ONNX front end's adapters see it (inputs by value name). */
export interface NodeView {
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

/** What an ONNX adapter may do besides editing the node. */
export interface UpgradeCtx {
  opset: number;
  /** Adds a constant (e.g. an attribute become an input) and returns its value name. */
  constant(dtype: DType, shape: number[], values: readonly number[]): string;
  fail(message: string): never;
  unsupported(message: string): never;
}

export interface OpSchema {
  /** The op's name: ONNX's op type where ONNX has the op. */
  name: string;
  /** ONNX domain ('' for the default, 'com.microsoft' for contrib ops). */
  domain?: string;
  /** One line for the generated op table. */
  doc: string;
  inputs: readonly InputSpec[];
  outputs: readonly OutputSpec[];
  attrs: Readonly<Record<string, AttrSpec>>;
  /** [output, input] pairs: the output may be written over that input (same size). */
  inPlace?: readonly (readonly [number, number])[];
  /** Layouts it runs in: 'any' (elementwise, shape ops) or 'nchw' (spatial ops). */
  layout: 'any' | 'nchw';
  /** Output dtypes and shapes (and values for ops evaluated at planning time). */
  infer(c: InferCtx): OutInfo[];
  /**
   * The native kernel (src/kernels/) that computes it, by name; default: the
   * op's name. `null` for an op that only `infer` evaluates (Shape) or that
   * `lower` maps onto a hand-tuned family (Conv).
   */
  kernel?: string | null;
  /** ONNX: rewrite an older opset's form into this schema's (attributes become inputs, ...). */
  upgrade?(node: NodeView, c: UpgradeCtx): void;
}
