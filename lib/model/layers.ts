/**
 * Layers of a {@link Sequential} model. Each is a plain description (`type` +
 * `config`) made by a factory that validates it; weights are given or drawn
 * from the model's seeded generator when the model is built. The config is
 * JSON, so a model saves as JSON topology + one binary weights file.
 */
import { rangeError, typeError } from '../errors';
import { TensorLike, checkTensor } from '../tensor';
import { checkOptions, optBool, optFinite } from '../validate';

export type Pair = number | [number, number];
export type Pads = number | [number, number] | [number, number, number, number];

/** Conv2d layer: weights `[filters, inChannels / group, kH, kW]`. */
export interface Conv2dLayerConfig {
  filters: number;
  kernel: Pair;
  strides?: Pair;
  pads?: Pads;
  dilations?: Pair;
  group?: number;
  activation?: 'none' | 'relu';
  useBias?: boolean;
}
export interface DenseLayerConfig {
  units: number;
  activation?: 'none' | 'relu';
  useBias?: boolean;
}
export interface MaxPool2dLayerConfig {
  kernel: Pair;
  strides?: Pair;
  pads?: Pads;
  dilations?: Pair;
  ceil?: boolean;
}
export interface AvgPool2dLayerConfig {
  kernel: Pair;
  strides?: Pair;
  pads?: Pads;
  ceil?: boolean;
  countIncludePad?: boolean;
}
export interface BatchNormLayerConfig {
  epsilon?: number;
}
export interface LrnLayerConfig {
  size: number;
  alpha?: number;
  beta?: number;
  bias?: number;
}

/** Named weight tensors of one layer, e.g. `{ w, b }` for conv2d and dense. */
export type LayerWeights = Record<string, TensorLike>;

/** One layer: what it is, its configuration, and optionally its weights. */
export interface Layer {
  readonly type: LayerType;
  readonly config: Readonly<Record<string, unknown>>;
  readonly weights?: LayerWeights;
}

export type LayerType =
  | 'conv2d'
  | 'dense'
  | 'maxPool2d'
  | 'avgPool2d'
  | 'globalAvgPool'
  | 'relu'
  | 'leakyRelu'
  | 'sigmoid'
  | 'tanh'
  | 'softmax'
  | 'batchNorm'
  | 'lrn'
  | 'dropout'
  | 'flatten';

/** The weight names each layer type has, with their shapes given the input shape. */
export const LAYER_TYPES: readonly LayerType[] = ['conv2d', 'dense', 'maxPool2d', 'avgPool2d', 'globalAvgPool', 'relu', 'leakyRelu', 'sigmoid', 'tanh', 'softmax', 'batchNorm', 'lrn', 'dropout', 'flatten'];

function posInt(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number') typeError(op, name, 'a number', v);
  if (!Number.isInteger(v) || v < 1 || v > 0x7fffffff) rangeError(op, `"${name}" must be a positive integer, got ${String(v)}`);
  return v;
}

function checkWeights(op: string, weights: unknown, names: readonly string[]): LayerWeights | undefined {
  if (weights === undefined) return undefined;
  if (typeof weights !== 'object' || weights === null) typeError(op, 'weights', 'an object of tensors', weights);
  const out: LayerWeights = {};
  for (const key of Object.keys(weights)) {
    if (!names.includes(key)) throw new TypeError(`${op}: unknown weight ${JSON.stringify(key)}; expected ${names.join(', ')}`);
    out[key] = checkTensor(op, `weights.${key}`, (weights as Record<string, unknown>)[key]);
  }
  return out;
}

function make(type: LayerType, config: Record<string, unknown>, weights?: LayerWeights): Layer {
  return Object.freeze({ type, config: Object.freeze(config), ...(weights ? { weights } : {}) });
}

const CONV_KEYS = new Set(['filters', 'kernel', 'strides', 'pads', 'dilations', 'group', 'activation', 'useBias', 'weights']);
const DENSE_KEYS = new Set(['units', 'activation', 'useBias', 'weights']);
const MAXPOOL_KEYS = new Set(['kernel', 'strides', 'pads', 'dilations', 'ceil']);
const AVGPOOL_KEYS = new Set(['kernel', 'strides', 'pads', 'ceil', 'countIncludePad']);
const BN_KEYS = new Set(['epsilon', 'weights']);
const LRN_KEYS = new Set(['size', 'alpha', 'beta', 'bias']);

function activationOf(op: string, v: unknown): 'none' | 'relu' {
  if (v === undefined) return 'none';
  if (v !== 'none' && v !== 'relu') typeError(op, 'activation', '"none" or "relu"', v);
  return v;
}

/** The layer factories, as `nn.layers.*`. Hyperparameters are checked again, with shapes, when the model is built. */
export const layers = {
  /**
   * 2-D convolution. Weights `{ w: [filters, inChannels/group, kH, kW], b?: [filters] }` (random when omitted).
   * @example nn.layers.conv2d({ filters: 64, kernel: 3, pads: 1, activation: 'relu' })
   */
  conv2d(config: Conv2dLayerConfig & { weights?: { w: TensorLike; b?: TensorLike } }): Layer {
    const op = 'layers.conv2d';
    const c = checkOptions(op, config, CONV_KEYS) as Conv2dLayerConfig & { weights?: LayerWeights };
    if (config === undefined) typeError(op, 'config', 'an object', config);
    posInt(op, 'filters', c.filters);
    if (c.kernel === undefined) typeError(op, 'kernel', 'a number or [h, w]', c.kernel);
    const { weights, ...rest } = c;
    return make('conv2d', { ...rest, activation: activationOf(op, c.activation), useBias: c.useBias === undefined ? true : optBool(op, 'useBias', c.useBias) }, checkWeights(op, weights, ['w', 'b']));
  },
  /**
   * Fully connected layer. Weights `{ w: [units, inFeatures], b?: [units] }`.
   * @example nn.layers.dense({ units: 10 })
   */
  dense(config: DenseLayerConfig & { weights?: { w: TensorLike; b?: TensorLike } }): Layer {
    const op = 'layers.dense';
    if (config === undefined) typeError(op, 'config', 'an object', config);
    const c = checkOptions(op, config, DENSE_KEYS) as DenseLayerConfig & { weights?: LayerWeights };
    posInt(op, 'units', c.units);
    const { weights, ...rest } = c;
    return make('dense', { ...rest, activation: activationOf(op, c.activation), useBias: c.useBias === undefined ? true : optBool(op, 'useBias', c.useBias) }, checkWeights(op, weights, ['w', 'b']));
  },
  /** Another name for {@link layers.dense}: the same layer. */
  fullyConnected(config: DenseLayerConfig & { weights?: { w: TensorLike; b?: TensorLike } }): Layer {
    return layers.dense(config);
  },
  maxPool2d(config: MaxPool2dLayerConfig): Layer {
    const op = 'layers.maxPool2d';
    if (config === undefined) typeError(op, 'config', 'an object', config);
    const c = checkOptions(op, config, MAXPOOL_KEYS);
    if (c.kernel === undefined) typeError(op, 'kernel', 'a number or [h, w]', c.kernel);
    return make('maxPool2d', { ...c });
  },
  avgPool2d(config: AvgPool2dLayerConfig): Layer {
    const op = 'layers.avgPool2d';
    if (config === undefined) typeError(op, 'config', 'an object', config);
    const c = checkOptions(op, config, AVGPOOL_KEYS);
    if (c.kernel === undefined) typeError(op, 'kernel', 'a number or [h, w]', c.kernel);
    return make('avgPool2d', { ...c });
  },
  globalAvgPool(): Layer {
    return make('globalAvgPool', {});
  },
  relu(): Layer {
    return make('relu', {});
  },
  leakyRelu(config: { alpha?: number } = {}): Layer {
    const c = checkOptions('layers.leakyRelu', config, new Set(['alpha']));
    return make('leakyRelu', { alpha: optFinite('layers.leakyRelu', 'alpha', c.alpha, 0.01) });
  },
  sigmoid(): Layer {
    return make('sigmoid', {});
  },
  tanh(): Layer {
    return make('tanh', {});
  },
  softmax(config: { axis?: number } = {}): Layer {
    const c = checkOptions('layers.softmax', config, new Set(['axis']));
    return make('softmax', { axis: optFinite('layers.softmax', 'axis', c.axis, -1) });
  },
  /**
   * Inference batch normalization over channels. Weights `{ scale, bias, mean, variance }` (each `[C]`;
   * identity when omitted). Folded into a preceding conv2d when the model is compiled.
   */
  batchNorm(config: BatchNormLayerConfig & { weights?: { scale: TensorLike; bias: TensorLike; mean: TensorLike; variance: TensorLike } } = {}): Layer {
    const op = 'layers.batchNorm';
    const c = checkOptions(op, config, BN_KEYS) as BatchNormLayerConfig & { weights?: LayerWeights };
    const epsilon = optFinite(op, 'epsilon', c.epsilon, 1e-5);
    if (epsilon < 0) rangeError(op, `"epsilon" must be >= 0, got ${epsilon}`);
    return make('batchNorm', { epsilon }, checkWeights(op, c.weights, ['scale', 'bias', 'mean', 'variance']));
  },
  lrn(config: LrnLayerConfig): Layer {
    const op = 'layers.lrn';
    if (config === undefined) typeError(op, 'config', 'an object', config);
    const c = checkOptions(op, config, LRN_KEYS);
    posInt(op, 'size', c.size);
    return make('lrn', { size: c.size, alpha: optFinite(op, 'alpha', c.alpha, 1e-4), beta: optFinite(op, 'beta', c.beta, 0.75), bias: optFinite(op, 'bias', c.bias, 1) });
  },
  /** Identity at inference; kept so trained topologies load unchanged. */
  dropout(config: { rate?: number } = {}): Layer {
    const c = checkOptions('layers.dropout', config, new Set(['rate']));
    const rate = optFinite('layers.dropout', 'rate', c.rate, 0.5);
    if (rate < 0 || rate >= 1) rangeError('layers.dropout', `"rate" must be in [0, 1), got ${rate}`);
    return make('dropout', { rate });
  },
  flatten(): Layer {
    return make('flatten', {});
  },
};

/** Rebuilds a layer from its saved type and config (loadModel). */
export function layerFrom(type: unknown, config: unknown, weights?: LayerWeights): Layer {
  if (typeof type !== 'string' || !(LAYER_TYPES as readonly string[]).includes(type)) {
    throw new RangeError(`loadModel: unknown layer type ${JSON.stringify(type)}; known: ${LAYER_TYPES.join(', ')}`);
  }
  const factory = (layers as unknown as Record<string, (c: unknown) => Layer>)[type];
  const built = factory(type === 'globalAvgPool' || type === 'relu' || type === 'sigmoid' || type === 'tanh' || type === 'flatten' ? undefined : { ...(config as object), ...(weights ? { weights } : {}) });
  return built;
}

