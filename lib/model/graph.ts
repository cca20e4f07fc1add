/**
 * A Sequential model as an ONNX graph: the one graph both front ends build.
 * `saveOnnx` writes it; a Sequential model compiles it through the same
 * passes and planner as an imported ONNX model (batch-norm folding, ReLU
 * fusion, constant folding, arena planning), so no pass exists twice.
 */
import { rangeError } from '../errors';
import type { Tensor } from '../tensor';
import { OnnxDim, OnnxGraphBuilder, attr } from '../onnx/builder';

/** What the graph is made from: a Sequential model's shapes and layers. */
export interface SequentialParts {
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly layers: readonly { type: string; config: Readonly<Record<string, unknown>>; weights: Readonly<Record<string, Tensor>> }[];
}

function pair(v: unknown, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  return Array.isArray(v) ? [v[0] as number, v[1] as number] : [v as number, v as number];
}

/** neonn pads (number, [h, w] or [top, left, bottom, right]) as ONNX pads [x1_begin, x2_begin, x1_end, x2_end]. */
function onnxPads(v: unknown): number[] {
  if (Array.isArray(v) && v.length === 4) return v.map(Number);
  const [h, w] = pair(v, 0);
  return [h, w, h, w];
}

/** Layers without attributes or weights, and their ONNX op. */
const PARAMETERLESS: Record<string, string> = { globalAvgPool: 'GlobalAveragePool', relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh' };

/**
 * Builds the graph: conv2d → Conv, dense → Gemm (transB=1, a Flatten in front
 * when its input is not 2-D), pools → MaxPool/AveragePool/GlobalAveragePool,
 * batchNorm → BatchNormalization, lrn → LRN, activations → their ONNX ops,
 * flatten → Flatten(axis=1), dropout → nothing (identity at inference).
 * Layers are written as declared (no folding: the importer folds). Input
 * `input` `[batch, ...inputShape]`, output `output`.
 */
export function sequentialGraph({ inputShape, outputShape, layers }: SequentialParts, batch: OnnxDim = 'N'): OnnxGraphBuilder {
  const g = new OnnxGraphBuilder('neonn_sequential');
  let x = g.addInput('input', [batch, ...inputShape]);
  let rank = inputShape.length + 1;
  layers.forEach((layer, i) => {
    const c = layer.config as Record<string, unknown>;
    const prefix = `layer${i}_${layer.type}`;
    const weight = (key: string): string => {
      const t: Tensor = layer.weights[key];
      return g.addInitializer(`${prefix}.${key}`, t.data, t.shape);
    };
    switch (layer.type) {
      case 'conv2d': {
        const w = layer.weights.w;
        x = g.addNode('Conv', layer.weights.b ? [x, weight('w'), weight('b')] : [x, weight('w')], {
          kernel_shape: attr.ints([w.shape[2], w.shape[3]]),
          strides: attr.ints(pair(c.strides, 1)),
          pads: attr.ints(onnxPads(c.pads)),
          dilations: attr.ints(pair(c.dilations, 1)),
          group: attr.int((c.group as number | undefined) ?? 1),
        });
        if (c.activation === 'relu') x = g.addNode('Relu', [x]);
        break;
      }
      case 'dense':
        if (rank !== 2) x = g.addNode('Flatten', [x], { axis: attr.int(1) });
        rank = 2;
        x = g.addNode('Gemm', layer.weights.b ? [x, weight('w'), weight('b')] : [x, weight('w')], { transB: attr.int(1) });
        if (c.activation === 'relu') x = g.addNode('Relu', [x]);
        break;
      case 'maxPool2d':
      case 'avgPool2d': {
        const k = pair(c.kernel, 1);
        const common = { kernel_shape: attr.ints(k), strides: attr.ints(pair(c.strides, 1)), pads: attr.ints(onnxPads(c.pads)), ceil_mode: attr.int(c.ceil ? 1 : 0) };
        x =
          layer.type === 'maxPool2d'
            ? g.addNode('MaxPool', [x], { ...common, dilations: attr.ints(pair(c.dilations, 1)) })
            : g.addNode('AveragePool', [x], { ...common, count_include_pad: attr.int(c.countIncludePad ? 1 : 0) });
        break;
      }
      case 'globalAvgPool':
      case 'relu':
      case 'sigmoid':
      case 'tanh':
        x = g.addNode(PARAMETERLESS[layer.type], [x]);
        break;
      case 'leakyRelu':
        x = g.addNode('LeakyRelu', [x], { alpha: attr.float(c.alpha as number) });
        break;
      case 'softmax':
        x = g.addNode('Softmax', [x], { axis: attr.int(c.axis as number) });
        break;
      case 'batchNorm':
        x = g.addNode('BatchNormalization', [x, weight('scale'), weight('bias'), weight('mean'), weight('variance')], { epsilon: attr.float(c.epsilon as number) });
        break;
      case 'lrn':
        x = g.addNode('LRN', [x], { size: attr.int(c.size as number), alpha: attr.float(c.alpha as number), beta: attr.float(c.beta as number), bias: attr.float(c.bias as number) });
        break;
      case 'flatten':
        x = g.addNode('Flatten', [x], { axis: attr.int(1) });
        rank = 2;
        break;
      case 'dropout':
        break;
      default:
        rangeError('saveOnnx', `layer ${i}: no ONNX mapping for layer type ${JSON.stringify(layer.type)}`);
    }
  });
  const y = g.addNode('Identity', [x], {}, ['output']);
  g.addOutput(y, [batch, ...outputShape]);
  return g;
}
