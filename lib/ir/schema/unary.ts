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
];
