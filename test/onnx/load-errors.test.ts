// Load errors that fuzzing found loose (issue 14): each is refused at load
// with one "loadOnnx: " prefix, a code, and words that say what is wrong.
import * as nn from '../../lib';
import { AT, DT, Spec, code, encode, flt, floatInit, int, port } from './builders';
import { randomTensor } from '../helpers';

function loadError(s: Spec): Error & { code?: string } {
  try {
    nn.loadOnnxSync(encode(s)).dispose();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('the model loaded');
}

const relu: Spec = { nodes: [{ opType: 'Relu', input: ['x'], output: ['y'] }], inputs: [port('x', [1, 4])], outputs: ['y'] };
const w = randomTensor([2, 2, 1, 1], 3);

describe('loadOnnx: load errors', () => {
  test('two graph inputs with one name are refused at load, not at every run', () => {
    const s: Spec = {
      nodes: [{ opType: 'Add', input: ['x', 'x'], output: ['y'] }],
      inputs: [port('x', [1, 4]), port('x', [2, 4])],
      outputs: ['y'],
    };
    const e = loadError(s);
    expect(e).toBeInstanceOf(nn.NeonnError);
    expect(e.code).toBe('ERR_NEONN_ONNX_INVALID');
    expect(e.message).toBe('loadOnnx: graph inputs 0 and 1 are both named "x"');
    // The same graph with distinct names loads.
    const ok: Spec = { ...s, nodes: [{ opType: 'Add', input: ['x', 'z'], output: ['y'] }], inputs: [port('x', [1, 4]), port('z', [1, 4])] };
    expect(code(() => nn.loadOnnxSync(encode(ok)).dispose())).toBe('no error');
  });

  test('an int64 dimension past 2^53 in a graph input: prefix and code', () => {
    const s: Spec = { ...relu, inputs: [port('x', [1, 2 ** 60])] };
    const e = loadError(s);
    expect(e.code).toBe('ERR_NEONN_ONNX_INVALID');
    expect(e.message).toMatch(/^loadOnnx: int64 value 1152921504606846976 is not a safe JS integer/);
  });

  test('an int64 dimension past 2^53 in an initializer: prefix, the node that reads it, and code', () => {
    const s: Spec = {
      ...relu,
      nodes: [{ opType: 'Add', input: ['x', 'b'], output: ['y'] }],
      inits: [{ name: 'b', dims: [2 ** 60], dataType: DT.FLOAT, floatData: [1] }],
    };
    const e = loadError(s);
    expect(e.code).toBe('ERR_NEONN_ONNX_INVALID');
    expect(e.message).toMatch(/^loadOnnx: input 1 of Add node #0: int64 value 1152921504606846976 is not a safe JS integer/);
  });

  test('an attribute of an unknown type names the number, never "undefined"', () => {
    const s: Spec = {
      nodes: [{ opType: 'Conv', input: ['x', 'w'], output: ['y'], attribute: [{ name: 'group', type: 99 as never, i: 1 }] }],
      inputs: [port('x', [1, 2, 3, 3])],
      outputs: ['y'],
      inits: [floatInit('w', w)],
    };
    const e = loadError(s);
    expect(e.message).toMatch(/^loadOnnx: /);
    expect(e.message).toMatch(/attribute "group" has type 99 \(not an ONNX attribute type\), expected INT/);
    expect(e.message).not.toMatch(/undefined/);
  });

  test('an attribute of the wrong type says "loadOnnx: " once', () => {
    const s: Spec = {
      nodes: [{ opType: 'Conv', input: ['x', 'w'], output: ['y'], attribute: [flt('group', 1)] }],
      inputs: [port('x', [1, 2, 3, 3])],
      outputs: ['y'],
      inits: [floatInit('w', w)],
    };
    const e = loadError(s);
    expect(e.message).toMatch(/^loadOnnx: .*attribute "group" has type FLOAT, expected INT/);
    expect(e.message).not.toMatch(/loadOnnx:.*loadOnnx:/);
  });

  test('a folded (all-constant) node failing says "loadOnnx: " once', () => {
    const s: Spec = {
      nodes: [
        { opType: 'Conv', input: ['c', 'w'], output: ['k'], attribute: [flt('group', 1)] },
        { opType: 'Add', input: ['x', 'k'], output: ['y'] },
      ],
      inputs: [port('x', [1, 2, 3, 3])],
      outputs: ['y'],
      inits: [floatInit('c', randomTensor([1, 2, 3, 3], 4)), floatInit('w', w)],
    };
    const e = loadError(s);
    expect(e.message).toMatch(/^loadOnnx: /);
    expect(e.message).not.toMatch(/loadOnnx:.*loadOnnx:/);
  });

  test('a well-typed attribute still loads (the checks refuse only what is wrong)', () => {
    const s: Spec = {
      nodes: [{ opType: 'Conv', input: ['x', 'w'], output: ['y'], attribute: [int('group', 1), { name: 'strides', type: AT.INTS, ints: [1, 1] }] }],
      inputs: [port('x', [1, 2, 3, 3])],
      outputs: ['y'],
      inits: [floatInit('w', w)],
    };
    expect(code(() => nn.loadOnnxSync(encode(s)).dispose())).toBe('no error');
  });
});
