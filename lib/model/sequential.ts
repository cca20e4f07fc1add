/**
 * A linear stack of layers. It compiles through the same graph as an
 * imported ONNX model (model/graph.ts builds it; the importer's passes fold
 * batch norm into the preceding conv, fuse ReLU, drop dropout, make flatten a
 * view, and plan the arena), so no pass exists twice. `predict` runs the
 * whole forward pass on the libuv pool; calls on one model run one after
 * another.
 */
import { NeonnError, rangeError, typeError } from '../errors';
import { conv2d, fullyConnected } from '../ops/conv';
import { batchNorm, lrn } from '../ops/normalization';
import { leakyRelu, relu, sigmoid, softmax, tanh } from '../ops/elementwise';
import { flatten } from '../ops/layout';
import { avgPool2d, globalAvgPool, maxPool2d } from '../ops/pool';
import { buildGraph } from '../onnx/graph';
import { OnnxModel } from '../onnx/model';
import { Tensor, TensorLike, checkShape, checkTensor, fmtShape } from '../tensor';
import { sequentialGraph } from './graph';
import { Layer, LayerWeights } from './layers';
import { trace } from './program';

/** Options of {@link Sequential}. */
export interface SequentialOptions {
  /** Shape of one sample, without the batch dimension, e.g. `[3, 224, 224]`. */
  inputShape: readonly number[];
  /** Seed for the weights the layers were not given (default 1): same seed, same model. */
  seed?: number;
}

// Bound once: a global lookup per call is slow inside vm contexts (jest).
const imul = Math.imul;

/** Deterministic uniform floats in [-1, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function uniform(n: number, scale: number, offset: number, rnd: () => number): Float32Array {
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = offset + scale * rnd();
  return d;
}

function pairOf(v: unknown): [number, number] {
  return Array.isArray(v) ? [v[0] as number, v[1] as number] : [v as number, v as number];
}

/** A layer with its weights materialized, as the model holds it. */
interface Built {
  layer: Layer;
  weights: Record<string, Tensor>;
  inShape: number[];
  outShape: number[];
}

/** One executable unit after folding and fusion. */
interface Unit {
  label: string;
  layer: Layer;
  weights: Record<string, Tensor>;
  activation: 'none' | 'relu';
}

const SHAPE_OF: Record<string, (inShape: number[], cfg: Record<string, unknown>) => Record<string, number[]>> = {
  conv2d: (s, c) => {
    if (s.length !== 4) rangeError('Sequential', `conv2d expects a 4-D input [N,C,H,W], got ${fmtShape(s)}`);
    const [kh, kw] = pairOf(c.kernel);
    const g = (c.group as number | undefined) ?? 1;
    const f = c.filters as number;
    if (!Number.isInteger(g) || g < 1 || s[1] % g !== 0 || f % g !== 0) {
      rangeError('conv2d', `input channels (${s[1]}) and filters (${f}) must be divisible by group (${String(g)})`);
    }
    return { w: [f, s[1] / g, kh, kw], ...(c.useBias ? { b: [f] } : {}) };
  },
  dense: (s, c) => ({ w: [c.units as number, s.slice(1).reduce((a, b) => a * b, 1)], ...(c.useBias ? { b: [c.units as number] } : {}) }),
  batchNorm: (s) => {
    if (s.length < 2) rangeError('Sequential', `batchNorm expects an input of rank >= 2, got ${fmtShape(s)}`);
    return { scale: [s[1]], bias: [s[1]], mean: [s[1]], variance: [s[1]] };
  },
};

/**
 * A sequential model.
 * @example
 * const m = new nn.Sequential([
 *   nn.layers.conv2d({ filters: 8, kernel: 3, pads: 1, activation: 'relu' }),
 *   nn.layers.maxPool2d({ kernel: 2, strides: 2 }),
 *   nn.layers.flatten(),
 *   nn.layers.dense({ units: 10 }),
 *   nn.layers.softmax(),
 * ], { inputShape: [1, 28, 28], seed: 7 });
 * const y = await m.predict(nn.tensor(new Float32Array(28 * 28), [1, 1, 28, 28]));
 */
export class Sequential {
  /** Shape of one sample in and out (no batch dimension). */
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  private readonly built: Built[];
  /** The compiled graph (made on first use; one program per batch size, the most recent kept). */
  private graphModel: OnnxModel | undefined;
  private disposed = false;

  /**
   * Builds the model: checks that the layers fit together (shape inference)
   * and materializes every weight.
   * @throws {TypeError} for a non-layer or bad options
   * @throws {RangeError} when a layer does not fit its input, naming the layer
   */
  constructor(layerList: readonly Layer[], options: SequentialOptions) {
    if (!Array.isArray(layerList)) typeError('Sequential', 'layers', 'an array of nn.layers.*', layerList);
    if (typeof options !== 'object' || options === null) typeError('Sequential', 'options', 'an object with inputShape', options);
    this.inputShape = Object.freeze(checkShape('Sequential', 'inputShape', options.inputShape));
    const seed = options.seed ?? 1;
    if (typeof seed !== 'number' || !Number.isInteger(seed)) typeError('Sequential', 'seed', 'an integer', seed);
    const rnd = seededRandom(seed);
    this.built = [];
    // Shape inference is a traced forward pass at batch 1: the ops' own checks
    // report what does not fit, prefixed with the layer.
    let shape = [1, ...this.inputShape];
    layerList.forEach((layer, i) => {
      if (typeof layer !== 'object' || layer === null || typeof (layer as Layer).type !== 'string') {
        typeError('Sequential', `layers[${i}]`, 'a layer from nn.layers.*', layer);
      }
      const weights = this.materialize(layer, i, shape, rnd);
      const inShape = shape;
      const x = new Tensor(new Float32Array(inShape.reduce((a, b) => a * b, 1)), inShape);
      let out: TensorLike = x;
      withLayer(i, layer, () => {
        trace([x], Object.values(weights).map((w) => w.data), () => {
          out = applyLayer({ label: '', layer, weights, activation: (layer.config.activation as 'none' | 'relu' | undefined) ?? 'none' }, x, false);
          return [];
        }, () => '', true);
      });
      shape = [...out.shape];
      this.built.push({ layer, weights, inShape, outShape: shape });
    });
    this.outputShape = Object.freeze(shape.slice(1));
  }

  /** The layers with their weights (what saveModel writes). */
  get layers(): readonly { type: string; config: Readonly<Record<string, unknown>>; weights: Readonly<Record<string, Tensor>> }[] {
    return this.built.map((b) => ({ type: b.layer.type, config: b.layer.config, weights: b.weights }));
  }

  private materialize(layer: Layer, index: number, shape: number[], rnd: () => number): Record<string, Tensor> {
    const shapeOf = SHAPE_OF[layer.type];
    if (!shapeOf) return {};
    const want = withLayer(index, layer, () => shapeOf(shape, layer.config as Record<string, unknown>));
    return withLayer(index, layer, () => this.weightsOf(layer, want, rnd));
  }

  private weightsOf(layer: Layer, want: Record<string, number[]>, rnd: () => number): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    const given: LayerWeights = layer.weights ?? {};
    for (const [name, wShape] of Object.entries(want)) {
      const g = given[name];
      if (g !== undefined) {
        if (g.shape.length !== wShape.length || g.shape.some((d, k) => d !== wShape[k])) {
          rangeError(layer.type, `weights.${name} must have shape ${fmtShape(wShape)}, got ${fmtShape(g.shape)}`);
        }
        out[name] = new Tensor(g.data.slice(), wShape); // owned copy: later edits to the caller's array don't change the model
        continue;
      }
      const n = wShape.reduce((a, b) => a * b, 1);
      if (layer.type === 'batchNorm') {
        out[name] = new Tensor(name === 'scale' || name === 'variance' ? uniform(n, 0.5, 1, rnd) : uniform(n, 0.1, 0, rnd), wShape);
      } else {
        const fanIn = n / wShape[0];
        // He-uniform for weights, small biases: activations stay in range through deep stacks.
        out[name] = new Tensor(name === 'w' ? uniform(n, Math.sqrt(6 / fanIn), 0, rnd) : uniform(n, 0.05, 0, rnd), wShape);
      }
    }
    return out;
  }

  /** The model's graph, compiled by the ONNX importer's passes and planner. */
  private compiled(): OnnxModel {
    if (!this.graphModel) this.graphModel = new OnnxModel(buildGraph(sequentialGraph(this).toModel()), new Map(), false);
    return this.graphModel;
  }

  private prepare(op: string, xIn: unknown): TensorLike {
    if (this.disposed) throw new NeonnError(`${op}: the model was disposed`, 'ERR_NEONN_DISPOSED', op);
    const x = checkTensor(op, 'x', xIn);
    const want = this.inputShape;
    if (x.shape.length !== want.length + 1 || want.some((d, i) => x.shape[i + 1] !== d)) {
      rangeError(op, `"x" must have shape [N,${want.join(',')}], got ${fmtShape(x.shape)}`);
    }
    return x;
  }

  /**
   * Runs the forward pass on the calling thread.
   * @param x - `[N, ...inputShape]`
   * @throws {RangeError} when `x` has the wrong shape
   */
  predictSync(x: TensorLike): Tensor {
    const input = this.prepare('predictSync', x);
    return this.compiled().runSync({ input }).output;
  }

  /**
   * Runs the whole forward pass on the libuv pool; the event loop stays free.
   * Calls on one model run one after another.
   */
  async predict(x: TensorLike): Promise<Tensor> {
    const input = this.prepare('predict', x);
    return (await this.compiled().run({ input })).output;
  }

  /** Native memory held by the compiled programs (weights copies + arenas), in bytes. */
  memoryBytes(): number {
    return this.graphModel?.memoryBytes() ?? 0;
  }

  /** Frees the native memory now (a run in flight finishes first). Later calls throw. */
  dispose(): void {
    this.graphModel?.dispose();
    this.disposed = true;
  }
}

function withLayer<T>(index: number, layer: Layer, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof Error) err.message = `Sequential: layer ${index} (${layer.type}): ${err.message}`;
    throw err;
  }
}

/** One layer through the public ops: the constructor's shape check (a dry trace records and checks, runs nothing). */
function applyLayer(u: Unit, t: TensorLike, mayOverwrite: boolean): TensorLike {
  const c = u.layer.config as Record<string, unknown>;
  const inPlace = mayOverwrite ? { out: t } : {};
  switch (u.layer.type) {
    case 'conv2d':
      return conv2d(t, u.weights.w, {
        ...(u.weights.b ? { bias: u.weights.b } : {}),
        ...(c.strides !== undefined ? { strides: c.strides as [number, number] } : {}),
        ...(c.pads !== undefined ? { pads: c.pads as [number, number] } : {}),
        ...(c.dilations !== undefined ? { dilations: c.dilations as [number, number] } : {}),
        ...(c.group !== undefined ? { group: c.group as number } : {}),
        activation: u.activation,
      });
    case 'dense': {
      const y = fullyConnected(t, u.weights.w, u.weights.b ? { bias: u.weights.b } : {});
      return u.activation === 'relu' ? relu(y, { out: y }) : y;
    }
    case 'maxPool2d':
      return maxPool2d(t, c as never);
    case 'avgPool2d':
      return avgPool2d(t, c as never);
    case 'globalAvgPool':
      return globalAvgPool(t);
    case 'relu':
      return relu(t, inPlace);
    case 'leakyRelu':
      return leakyRelu(t, c.alpha as number, inPlace);
    case 'sigmoid':
      return sigmoid(t, inPlace);
    case 'tanh':
      return tanh(t, inPlace);
    case 'softmax':
      return softmax(t, { axis: c.axis as number });
    case 'batchNorm':
      return batchNorm(t, { scale: u.weights.scale, bias: u.weights.bias, mean: u.weights.mean, variance: u.weights.variance, epsilon: c.epsilon as number });
    case 'lrn':
      return lrn(t, c as never);
    case 'flatten':
      return flatten(t, 1);
    case 'dropout':
      return t;
    default:
      throw new TypeError(`Sequential: unknown layer type ${JSON.stringify(u.layer.type)}`);
  }
}
