/**
 * Float32 elementwise ops with one input (kernels: src/kernels/unary.cc).
 * @internal
 */
import { FLOAT } from '../../dtype';
import type { AttrSpec, OpSchema } from './types';

/** An elementwise float op y = f(x): same shape, may run in place. */
export function unaryFloat(name: string, doc: string, attrs: Record<string, AttrSpec> = {}): OpSchema {
  return {
    name,
    doc,
    inputs: [{ name: 'X', dtypes: FLOAT }],
    outputs: [{ name: 'Y' }],
    attrs,
    inPlace: [[0, 0]],
    layout: 'any',
    infer: (c) => [{ dtype: 'float32', shape: [...c.input(0).shape] }],
  };
}

export const UNARY: readonly OpSchema[] = [
  unaryFloat('Exp', 'e^x'),
  unaryFloat('HardSigmoid', 'max(0, min(1, alpha·x + beta))', { alpha: { type: 'float', default: 0.2 }, beta: { type: 'float', default: 0.5 } }),
  unaryFloat('HardSwish', 'x · max(0, min(1, x/6 + 1/2))'),
  ...[
    unaryFloat('Log', 'ln x'),
    unaryFloat('Sqrt', '√x'),
    unaryFloat('Reciprocal', '1/x'),
    unaryFloat('Floor', '⌊x⌋'),
    unaryFloat('Ceil', '⌈x⌉'),
    unaryFloat('Round', 'x rounded to the nearest integer, halves to even'),
    unaryFloat('Erf', 'erf(x)'),
    unaryFloat('Sin', 'sin x'),
    unaryFloat('Cos', 'cos x'),
    unaryFloat('Tanh', 'tanh x'),
    unaryFloat('Tan', 'tan x'),
    unaryFloat('Asin', 'arcsin x (NaN outside [−1, 1])'),
    unaryFloat('Acos', 'arccos x (NaN outside [−1, 1])'),
    unaryFloat('Atan', 'arctan x'),
    unaryFloat('Sinh', 'sinh x'),
    unaryFloat('Cosh', 'cosh x'),
    unaryFloat('Asinh', 'arsinh x'),
    unaryFloat('Acosh', 'arcosh x (NaN below 1)'),
    unaryFloat('Atanh', 'artanh x (NaN outside [−1, 1])'),
    unaryFloat('Sigmoid', '1 / (1 + e^−x)'),
    unaryFloat('Relu', 'max(0, x)'),
    unaryFloat('LeakyRelu', 'x ≥ 0 ? x : alpha·x', { alpha: { type: 'float', default: 0.01 } }),
    unaryFloat('Elu', 'x ≥ 0 ? x : alpha·(e^x − 1)', { alpha: { type: 'float', default: 1.0 } }),
    unaryFloat('Selu', 'gamma · (x > 0 ? x : alpha·(e^x − 1))', {
      alpha: { type: 'float', default: 1.67326319217681884765625 },
      gamma: { type: 'float', default: 1.05070102214813232421875 },
    }),
    unaryFloat('Celu', 'max(0, x) + min(0, alpha·(e^(x/alpha) − 1))', { alpha: { type: 'float', default: 1.0 } }),
    unaryFloat('Softplus', 'ln(1 + e^x)'),
    unaryFloat('Softsign', 'x / (1 + |x|)'),
    unaryFloat('Mish', 'x · tanh(softplus(x))'),
    unaryFloat('Gelu', 'x · Φ(x) (approximate: "none" = erf form, "tanh")', { approximate: { type: 'string', default: 'none', values: ['none', 'tanh'] } }),
  ].map(dropConsumedInputs),
];

/** Opset 1's `consumed_inputs` (a hint with no effect on results) is dropped at import. */
function dropConsumedInputs(s: OpSchema): OpSchema {
  return {
    ...s,
    upgrade: (node) => {
      delete node.attrs.consumed_inputs;
    },
  };
}
