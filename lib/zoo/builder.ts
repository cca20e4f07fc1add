/**
 * What every zoo architecture is built from: an ONNX graph builder plus a
 * seeded weight generator and the layer helpers (conv, batch-norm, pools, …)
 * the classic CNNs are written with.
 *
 * Weights are uniform and seeded (same seed, same bytes), scaled so that
 * activations neither vanish nor blow up through 50 layers: He-uniform
 * (variance 2/fanIn) for weights followed by a ReLU, LeCun-uniform (1/fanIn)
 * for the linear ones (classifier, MobileNetV2 projections), batch-norm
 * statistics near identity, and the last batch-norm of each residual branch
 * scaled down (as "zero-gamma" initialisation does, but not zero) so the sum
 * of 16 residual blocks stays of order one.
 */
import { rangeError, typeError } from '../errors';
import { OnnxGraphBuilder, attr } from '../onnx/export';
import { checkOptions } from '../validate';

/** Options of every `nn.zoo.onnx.*` builder. */
export interface ZooOptions {
  /** Seed of the random weights (default 1). */
  seed?: number;
  /** End with Softmax (default true, as the ONNX model zoo's Caffe-born models); false gives logits. */
  softmax?: boolean;
}

export interface ConvSpec {
  kernel: number;
  stride?: number;
  pad?: number | [number, number, number, number];
  group?: number;
  bias?: boolean;
  /** Weight scale: 'he' (followed by a ReLU, the default) or 'lecun' (linear). */
  init?: 'he' | 'lecun';
}

export interface PoolSpec {
  kernel: number;
  stride: number;
  pad?: number | [number, number, number, number];
  ceil?: boolean;
}

// A module-level binding, not `Math.imul` in the loop: under a vm context (jest)
// every global lookup goes through the context's interceptor, 100× slower.
const imul = Math.imul;

function pads4(p: number | [number, number, number, number] | undefined): number[] {
  if (Array.isArray(p)) return [...p];
  return [p ?? 0, p ?? 0, p ?? 0, p ?? 0];
}

/** A graph of one architecture under construction, input `data` [1,3,224,224], output `prob` (or `logits`) [1,1000]. */
export class ZooBuilder {
  readonly g: OnnxGraphBuilder;
  private state: number;
  private readonly softmax: boolean;
  /** The Clip bounds of ReLU6, made once and shared. */
  private clipBounds?: [string, string];

  constructor(readonly op: string, options: ZooOptions | undefined) {
    const o = checkOptions(op, options, new Set(['seed', 'softmax']));
    const seed = o.seed ?? 1;
    if (typeof seed !== 'number') typeError(op, 'seed', 'an integer', seed);
    if (!Number.isSafeInteger(seed)) rangeError(op, `"seed" must be a safe integer, got ${String(seed)}`);
    if (o.softmax !== undefined && typeof o.softmax !== 'boolean') typeError(op, 'softmax', 'a boolean', o.softmax);
    this.softmax = o.softmax ?? true;
    this.state = (seed ^ 0x9e3779b9) >>> 0;
    this.g = new OnnxGraphBuilder(op.replace(/^zoo\.onnx\./, ''));
  }

  /** n uniform floats in [offset - scale, offset + scale), from the model's stream. */
  uniform(n: number, scale: number, offset = 0): Float32Array {
    const out = new Float32Array(n);
    let s = this.state;
    for (let i = 0; i < n; i++) {
      // LCG step, then an integer hash of it (murmur-style finalizer): fast and well mixed.
      s = (imul(s, 1664525) + 1013904223) >>> 0;
      let h = s ^ (s >>> 16);
      h = imul(h, 0x45d9f3b);
      h ^= h >>> 16;
      out[i] = offset + scale * ((h >>> 0) / 2147483648 - 1);
    }
    this.state = s;
    return out;
  }

  input(): string {
    return this.g.addInput('data', [1, 3, 224, 224]);
  }

  conv(name: string, x: string, cin: number, cout: number, spec: ConvSpec): string {
    const group = spec.group ?? 1;
    const k = spec.kernel;
    const fanIn = (cin / group) * k * k;
    const w = this.g.addInitializer(`${name}_w`, this.uniform(cout * fanIn, Math.sqrt((spec.init === 'lecun' ? 3 : 6) / fanIn)), [cout, cin / group, k, k]);
    const inputs = [x, w];
    if (spec.bias ?? true) inputs.push(this.g.addInitializer(`${name}_b`, this.uniform(cout, 0.01), [cout]));
    return this.g.addNode(
      'Conv',
      inputs,
      { kernel_shape: attr.ints([k, k]), strides: attr.ints([spec.stride ?? 1, spec.stride ?? 1]), pads: attr.ints(pads4(spec.pad)), dilations: attr.ints([1, 1]), group: attr.int(group) },
      [name],
    );
  }

  /** Inference batch-norm with near-identity statistics; `gamma` is the centre of the scale. */
  batchNorm(name: string, x: string, c: number, gamma = 1): string {
    const inputs = [
      x,
      this.g.addInitializer(`${name}_scale`, this.uniform(c, 0.2 * gamma, gamma), [c]),
      this.g.addInitializer(`${name}_bias`, this.uniform(c, 0.05), [c]),
      this.g.addInitializer(`${name}_mean`, this.uniform(c, 0.05), [c]),
      this.g.addInitializer(`${name}_var`, this.uniform(c, 0.25, 1), [c]),
    ];
    return this.g.addNode('BatchNormalization', inputs, { epsilon: attr.float(1e-5) }, [name]);
  }

  relu(x: string): string {
    return this.g.addNode('Relu', [x]);
  }

  /** ReLU6 as opset-13 Clip(min=0, max=6), the bounds as shared scalar initializers. */
  relu6(x: string): string {
    if (!this.clipBounds) {
      this.clipBounds = [this.g.addInitializer('clip_min', new Float32Array([0]), []), this.g.addInitializer('clip_max', new Float32Array([6]), [])];
    }
    return this.g.addNode('Clip', [x, ...this.clipBounds]);
  }
  maxPool(x: string, p: PoolSpec): string {
    return this.g.addNode('MaxPool', [x], { kernel_shape: attr.ints([p.kernel, p.kernel]), strides: attr.ints([p.stride, p.stride]), pads: attr.ints(pads4(p.pad)), ceil_mode: attr.int(p.ceil ? 1 : 0) });
  }

  avgPool(x: string, p: PoolSpec): string {
    return this.g.addNode('AveragePool', [x], { kernel_shape: attr.ints([p.kernel, p.kernel]), strides: attr.ints([p.stride, p.stride]), pads: attr.ints(pads4(p.pad)), ceil_mode: attr.int(p.ceil ? 1 : 0) });
  }

  globalAvgPool(x: string): string {
    return this.g.addNode('GlobalAveragePool', [x]);
  }

  lrn(x: string): string {
    // Caffe's AlexNet/GoogLeNet LRN: local_size 5, alpha 1e-4, beta 0.75, k 1.
    return this.g.addNode('LRN', [x], { size: attr.int(5), alpha: attr.float(1e-4), beta: attr.float(0.75), bias: attr.float(1) });
  }

  concat(xs: readonly string[]): string {
    return this.g.addNode('Concat', xs, { axis: attr.int(1) });
  }

  add(a: string, b: string): string {
    return this.g.addNode('Add', [a, b]);
  }

  dropout(x: string, ratio: number): string {
    // Opset 13 Dropout: the ratio is an optional input; without training_mode it is the identity.
    return this.g.addNode('Dropout', [x], {}, [this.g.uniqueName(`dropout_${Math.round(ratio * 100)}`)]);
  }

  flatten(x: string): string {
    return this.g.addNode('Flatten', [x], { axis: attr.int(1) });
  }

  /** Fully connected [N, cin] → [N, cout], weights [cout, cin] (Gemm transB=1). */
  dense(name: string, x: string, cin: number, cout: number, init: 'he' | 'lecun'): string {
    const w = this.g.addInitializer(`${name}_w`, this.uniform(cout * cin, Math.sqrt((init === 'he' ? 6 : 3) / cin)), [cout, cin]);
    const b = this.g.addInitializer(`${name}_b`, this.uniform(cout, 0.01), [cout]);
    return this.g.addNode('Gemm', [x, w, b], { transB: attr.int(1) }, [name]);
  }

  /** Ends the graph: optional Softmax, output [1, 1000]; returns the model bytes. */
  finish(logits: string): Uint8Array {
    const y = this.softmax ? this.g.addNode('Softmax', [logits], { axis: attr.int(1) }, ['prob']) : this.g.addNode('Identity', [logits], {}, ['logits']);
    this.g.addOutput(y, [1, 1000]);
    return this.g.toBytes(`neonn zoo ${this.g.name}, random weights (seeded), not trained`);
  }
}
