// nn.loadOnnx on small models written here with onnx-proto's encoder:
// hostile and broken files (each a clear error, never a crash or a huge
// allocation), the opset variants of the operators, folding and fusion, the
// feeds contract and dispose.
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import * as nn from '../../lib';
import { onnx } from '../../lib/onnx/proto';
import { expectClose, randomTensor } from '../helpers';
import { AT, DT, Node, Spec, code, encode, flt, floatInit, int, intInit, ints, port } from './builders';

/** Loads, runs once on `x` (fed to input "x"), disposes; returns the first output. */
function run1(s: Spec, x: nn.Tensor): nn.Tensor {
  const m = nn.loadOnnxSync(encode(s));
  try {
    return m.runSync({ x })[m.outputNames[0]];
  } finally {
    m.dispose();
  }
}

const x4 = randomTensor([1, 2, 3, 3], 1);
const relu1: Spec = { nodes: [{ opType: 'Relu', input: ['x'], output: ['y'] }], inputs: [port('x', [1, 2, 3, 3])], outputs: ['y'] };

describe('bad files', () => {
  test('empty bytes', () => {
    expect(() => nn.loadOnnxSync(new Uint8Array(0))).toThrow(/loadOnnx: the file is empty/);
    expect(code(() => nn.loadOnnxSync(new Uint8Array(0)))).toBe('ERR_NEONN_ONNX_INVALID');
  });

  test('bytes that are not ONNX', () => {
    const text = new TextEncoder().encode('this is not an onnx model, just some text\n');
    expect(() => nn.loadOnnxSync(text)).toThrow(nn.NeonnError);
    expect(() => nn.loadOnnxSync(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a))).toThrow(/not a valid ONNX model|no graph/);
  });

  test('truncated files at many cut points', () => {
    const full = encode(relu1);
    for (let cut = 1; cut < full.length; cut++) {
      const c = code(() => nn.loadOnnxSync(full.subarray(0, cut)));
      expect(['ERR_NEONN_ONNX_INVALID', 'ERR_NEONN_ONNX_UNSUPPORTED', 'RangeError', 'TypeError']).toContain(c);
    }
  });

  const real = path.resolve(__dirname, '../../../shared/onnx-conformance/models/squeezenet.onnx');
  (existsSync(real) ? test : test.skip)('a real model cut short', () => {
    const bytes = readFileSync(real);
    for (const cut of [10, 1000, bytes.length >> 1, bytes.length - 3]) {
      expect(() => nn.loadOnnxSync(bytes.subarray(0, cut))).toThrow(/loadOnnx: /);
    }
  });

  test('an initializer of 10^12 elements is refused before allocating', () => {
    const s: Spec = { ...relu1, inits: [{ name: 'w', dims: [1000000, 1000000], dataType: DT.FLOAT }] };
    expect(() => nn.loadOnnxSync(encode(s))).toThrow(RangeError);
    expect(() => nn.loadOnnxSync(encode(s))).toThrow(/tensor "w": shape \[1000000,1000000\] has more than 268435456 elements/);
  });

  test('ConstantOfShape of 10^12 elements is refused before allocating', () => {
    const s: Spec = {
      nodes: [
        { opType: 'ConstantOfShape', name: 'big', input: ['shape'], output: ['c'] },
        { opType: 'Add', input: ['x', 'c'], output: ['y'] },
      ],
      inputs: [port('x', [1])],
      outputs: ['y'],
      inits: [intInit('shape', [1000000, 1000000])],
    };
    expect(() => nn.loadOnnxSync(encode(s))).toThrow(/ConstantOfShape node #0 "big": shape \[1000000,1000000\] has more than/);
  });

  test('pads that would make a multi-GB output are refused before the op allocates', () => {
    const padBig: Spec = { opset: 2, nodes: [{ opType: 'Pad', name: 'p', input: ['x'], output: ['y'], attribute: [ints('pads', [0, 0, 20000, 20000, 0, 0, 20000, 20000])] }], inputs: [port('x', [1, 2, 3, 3])], outputs: ['y'] };
    expect(() => nn.loadOnnxSync(encode(padBig))).toThrow(/Pad node #0 "p": shape \[1,2,40003,40003\] has more than 268435456 elements/);
    const convBig: Spec = {
      nodes: [{ opType: 'Conv', name: 'c', input: ['x', 'w'], output: ['y'], attribute: [ints('pads', [30000, 30000, 30000, 30000])] }],
      inputs: [port('x', [1, 2, 3, 3])],
      outputs: ['y'],
      inits: [floatInit('w', randomTensor([1, 2, 3, 3], 1))],
    };
    expect(() => nn.loadOnnxSync(encode(convBig))).toThrow(/Conv node #0 "c": shape \[1,1,60003,60003\] has more than/);
  });

  test('a broadcast to 10^10 elements is refused before the op allocates', () => {
    const s: Spec = {
      nodes: [{ opType: 'Add', name: 'a', input: ['x', 'c'], output: ['y'] }],
      inputs: [port('x', [100000, 1])],
      outputs: ['y'],
      inits: [floatInit('c', nn.tensor(new Float32Array(100000), [1, 100000]))],
    };
    expect(() => nn.loadOnnxSync(encode(s))).toThrow(/Add node #0 "a": shape \[100000,100000\] has more than/);
  });

  test('negative dims', () => {
    expect(() => nn.loadOnnxSync(encode({ ...relu1, inits: [{ name: 'w', dims: [-1, 3], dataType: DT.FLOAT }] }))).toThrow(/dimension -1 in \[-1,3\] is not a size/);
    expect(() => nn.loadOnnxSync(encode({ ...relu1, inputs: [port('x', [1, -5])] }))).toThrow(/input "x" has a negative dimension -5/);
  });

  test('a size that disagrees with the data', () => {
    const s: Spec = { ...relu1, inits: [{ name: 'w', dims: [4], dataType: DT.FLOAT, floatData: [1, 2] }] };
    expect(() => nn.loadOnnxSync(encode(s))).toThrow(/float_data has 2 values, dims \[4\] need 4/);
  });

  test('a missing input names the node and the input', () => {
    const s: Spec = { nodes: [{ opType: 'Add', name: 'plus', input: ['x', 'nope'], output: ['y'] }], inputs: [port('x', [2])], outputs: ['y'] };
    expect(() => nn.loadOnnxSync(encode(s))).toThrow(/Add node #0 "plus": input "nope" is not a graph input, an initializer or any node's output/);
  });

  test('a cycle', () => {
    const s: Spec = {
      nodes: [
        { opType: 'Add', name: 'a', input: ['x', 'q'], output: ['p'] },
        { opType: 'Relu', name: 'b', input: ['p'], output: ['q'] },
      ],
      inputs: [port('x', [2])],
      outputs: ['q'],
    };
    expect(() => nn.loadOnnxSync(encode(s))).toThrow(/the graph has a cycle through Add node #0 "a", Relu node #1 "b"/);
  });

  test('unknown ops are all listed, by op type and node name, in one error', () => {
    const s: Spec = {
      nodes: [
        { opType: 'Det', name: 'act1', input: ['x'], output: ['a'] },
        { opType: 'Relu', input: ['a'], output: ['b'] },
        { opType: 'FusedConv', domain: 'com.microsoft', name: 'fc', input: ['b'], output: ['y'] },
      ],
      inputs: [port('x', [2])],
      outputs: ['y'],
    };
    let err: nn.NeonnError | undefined;
    try {
      nn.loadOnnxSync(encode(s));
    } catch (e) {
      err = e as nn.NeonnError;
    }
    expect(err).toBeInstanceOf(nn.NeonnError);
    expect(err!.code).toBe('ERR_NEONN_ONNX_UNSUPPORTED');
    expect(err!.message).toMatch(/unsupported ONNX op\(s\): Det node #0 "act1"; com\.microsoft\.FusedConv node #2 "fc"/);
  });

  test('unsupported attributes of every node are listed with the unsupported ops, in one error', () => {
    const s: Spec = {
      nodes: [
        { opType: 'HardSigmoid', name: 'hs', input: ['x'], output: ['a'], attribute: [flt('gamma', 2)] },
        { opType: 'Gelu', name: 'g', input: ['a'], output: ['b'], attribute: [{ name: 'approximate', type: AT.STRING, s: Buffer.from('cubic') }] },
        { opType: 'Det', name: 'r', input: ['b'], output: ['y'] },
      ],
      inputs: [port('x', [2])],
      outputs: ['y'],
    };
    let err: nn.NeonnError | undefined;
    try {
      nn.loadOnnxSync(encode(s));
    } catch (e) {
      err = e as nn.NeonnError;
    }
    expect(err).toBeInstanceOf(nn.NeonnError);
    expect(err!.code).toBe('ERR_NEONN_ONNX_UNSUPPORTED');
    expect(err!.message).toMatch(/unsupported ONNX op\(s\): Det node #2 "r"; and unsupported attribute\(s\): HardSigmoid node #0 "hs": "gamma"; Gelu node #1 "g": approximate="cubic"/);
  });

  test('external data is not supported, clearly', () => {
    const s: Spec = {
      ...relu1,
      inits: [{ name: 'w', dims: [4], dataType: DT.FLOAT, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: [{ key: 'location', value: 'w.bin' }] }],
    };
    expect(() => nn.loadOnnxSync(encode(s))).toThrow(/tensor "w": external data \(data_location EXTERNAL\) is not supported/);
    expect(code(() => nn.loadOnnxSync(encode(s)))).toBe('ERR_NEONN_ONNX_UNSUPPORTED');
  });

  test('a missing file names loadOnnx and the path', async () => {
    await expect(nn.loadOnnx('/nonexistent/model.onnx')).rejects.toThrow(/^loadOnnx: cannot read the model file "\/nonexistent\/model.onnx": ENOENT/);
    expect(() => nn.loadOnnxSync('/nonexistent/model.onnx')).toThrow(/^loadOnnxSync: cannot read the model file "\/nonexistent\/model.onnx": ENOENT/);
    expect(code(() => nn.loadOnnxSync('/nonexistent/model.onnx'))).toBe('ENOENT');
  });

  test('a sequence, optional or map input or output is refused at load, naming it and its type', () => {
    const seq: onnx.IValueInfoProto = { name: 'x', type: { sequenceType: { elemType: { tensorType: { elemType: DT.FLOAT } } } } };
    const opt: onnx.IValueInfoProto = { name: 'y', type: { optionalType: { elemType: { sequenceType: { elemType: { tensorType: { elemType: DT.INT64 } } } } } } };
    const identity = (input: onnx.IValueInfoProto, output: onnx.IValueInfoProto): Uint8Array =>
      encode({ nodes: [{ opType: 'Identity', input: [input.name!], output: [output.name === input.name ? 'out' : output.name!] }], inputs: [input], outputs: [output.name === input.name ? { ...output, name: 'out' } : output] });
    const err = (bytes: Uint8Array): Error & { code?: string } => {
      try {
        nn.loadOnnxSync(bytes);
      } catch (e) {
        return e as Error & { code?: string };
      }
      throw new Error('loaded');
    };
    const a = err(identity(seq, seq));
    expect(a.code).toBe('ERR_NEONN_ONNX_UNSUPPORTED');
    expect(a.message).toMatch(/input "x" has type sequence\(tensor\(float\)\): neonn's values are tensors/);
    expect(err(identity(port('t', [2]), opt)).message).toMatch(/output "y" has type optional\(sequence\(tensor\(int64\)\)\)/);
  });

  test('a graph output nothing produces', () => {
    expect(() => nn.loadOnnxSync(encode({ ...relu1, outputs: ['zz'] }))).toThrow(/graph output "zz" is produced by no node/);
  });

  test('wrong arguments', async () => {
    expect(() => nn.loadOnnxSync(42 as never)).toThrow(TypeError);
    expect(() => nn.loadOnnxSync(42 as never)).toThrow(/loadOnnxSync: expected "pathOrBytes" to be a file path, a Uint8Array\/Buffer or an ArrayBuffer, received number 42/);
    await expect(nn.loadOnnx(null as never)).rejects.toThrow(TypeError);
    await expect(nn.loadOnnx('/nonexistent/model.onnx')).rejects.toThrow(/ENOENT/);
  });
});

describe('feeds and dispose', () => {
  const bytes = encode(relu1);

  test('names and shapes', () => {
    const m = nn.loadOnnxSync(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    expect(m.inputNames).toEqual(['x']);
    expect(m.outputNames).toEqual(['y']);
    expect(m.inputShapes).toEqual([[1, 2, 3, 3]]);
    expect(m.outputShapes).toEqual([[1, 2, 3, 3]]);
    expect(m.memoryBytes()).toBeGreaterThan(0);
    m.dispose();
  });

  test('missing, unknown and misshapen feeds', () => {
    const m = nn.loadOnnxSync(bytes);
    expect(() => m.runSync({})).toThrow(/runSync: input "x" is missing from the feeds/);
    expect(() => m.runSync({ x: x4, z: x4 })).toThrow(/runSync: unknown input "z" \(the model's inputs: x\)/);
    expect(() => m.runSync({ x: randomTensor([1, 2, 3, 4], 1) })).toThrow(RangeError);
    expect(() => m.runSync({ x: randomTensor([1, 2, 3, 4], 1) })).toThrow(/input "x" must have shape \[1,2,3,3\], got \[1,2,3,4\]/);
    expect(() => m.runSync([x4] as never)).toThrow(TypeError);
    m.dispose();
  });

  test('dispose, then every use is ERR_NEONN_DISPOSED', async () => {
    const m = nn.loadOnnxSync(bytes);
    m.dispose();
    expect(code(() => m.runSync({ x: x4 }))).toBe('ERR_NEONN_DISPOSED');
    await expect(m.run({ x: x4 })).rejects.toMatchObject({ code: 'ERR_NEONN_DISPOSED' });
    expect(code(() => m.layers())).toBe('ERR_NEONN_DISPOSED');
    m.dispose(); // twice is fine
  });

  test('run and runSync agree, and concurrent runs queue', async () => {
    const m = nn.loadOnnxSync(bytes);
    const sync = m.runSync({ x: x4 }).y;
    const all = await Promise.all([1, 2, 3].map(() => m.run({ x: x4 })));
    for (const r of all) expect([...r.y.data]).toEqual([...sync.data]);
    expect([...sync.data]).toEqual([...nn.relu(x4).data]);
    m.dispose();
  });

  test('a symbolic batch dim compiles per shape', () => {
    const m = nn.loadOnnxSync(encode({ ...relu1, inputs: [port('x', ['N', 2, 3, 3])] }));
    expect(m.inputShapes).toEqual([[-1, 2, 3, 3]]);
    const x = randomTensor([3, 2, 3, 3], 2);
    expect([...m.runSync({ x }).y.data]).toEqual([...nn.relu(x).data]);
    expect([...m.runSync({ x: x4 }).y.data]).toEqual([...nn.relu(x4).data]);
    m.dispose();
  });
});

describe('folding and fusion', () => {
  const w = randomTensor([4, 2, 3, 3], 3);
  const b = randomTensor([4], 4);
  const scale = nn.tensor(Float32Array.from([0.5, 1.5, 1, 2]), [4]);
  const beta = randomTensor([4], 5);
  const mean = randomTensor([4], 6);
  const variance = nn.tensor(Float32Array.from([0.5, 1, 2, 0.25]), [4]);
  const x = randomTensor([1, 2, 5, 5], 7);
  const inits = [floatInit('w', w), floatInit('b', b), floatInit('s', scale), floatInit('beta', beta), floatInit('m', mean), floatInit('v', variance)];
  const convBnRelu = (extraOutput: boolean): Spec => ({
    nodes: [
      { opType: 'Conv', name: 'c', input: ['x', 'w', 'b'], output: ['c'], attribute: [ints('pads', [1, 1, 1, 1])] },
      { opType: 'BatchNormalization', name: 'bn', input: ['c', 's', 'beta', 'm', 'v'], output: ['n'], attribute: [flt('epsilon', 1e-3)] },
      { opType: 'Relu', name: 'r', input: ['n'], output: ['y'] },
    ],
    inputs: [port('x', [1, 2, 5, 5])],
    outputs: extraOutput ? ['y', 'c'] : ['y'],
    inits,
  });
  const expected = (): nn.Tensor => nn.relu(nn.batchNorm(nn.conv2d(x, w, { bias: b, pads: 1 }), { scale, bias: beta, mean, variance, epsilon: 1e-3 }));

  test('Conv → BatchNormalization → Relu runs as one conv step, same numbers', () => {
    const m = nn.loadOnnxSync(encode(convBnRelu(false)));
    expect(m.layers().map((l) => l.op)).toEqual(['Conv+BatchNormalization+Relu']);
    expect(m.layers()[0].name).toBe('Conv node #0 "c" + BatchNormalization node #1 "bn" + Relu node #2 "r"');
    expectClose(m.runSync({ x }).y.data, expected().data);
    m.dispose();
  });

  test('a Conv whose output is also read elsewhere is not folded', () => {
    const m = nn.loadOnnxSync(encode(convBnRelu(true)));
    expect(m.layers().map((l) => l.op)).toEqual(['Conv', 'BatchNormalization', 'Relu']);
    const out = m.runSync({ x });
    expectClose(out.y.data, expected().data);
    expectClose(out.c.data, nn.conv2d(x, w, { bias: b, pads: 1 }).data);
    m.dispose();
  });

  test('constant subgraphs fold at load; Dropout and Identity vanish; the PyTorch flatten idiom works on the input', () => {
    const s: Spec = {
      opset: 11,
      nodes: [
        // weights made at load: ConstantOfShape(Constant shape) then Transpose
        { opType: 'Constant', input: [], output: ['wshape'], attribute: [{ name: 'value', type: AT.TENSOR, t: intInit('', [5, 18]) }] },
        { opType: 'ConstantOfShape', input: ['wshape'], output: ['w0'], attribute: [{ name: 'value', type: AT.TENSOR, t: { dims: [1], dataType: DT.FLOAT, floatData: [0.25] } }] },
        { opType: 'Transpose', input: ['w0'], output: ['wt'] },
        { opType: 'Dropout', input: ['x'], output: ['d', 'mask'] },
        { opType: 'Identity', input: ['d'], output: ['i'] },
        // Shape → Gather → Unsqueeze → Concat → Reshape: flatten to [N, -1]
        { opType: 'Shape', input: ['i'], output: ['shp'] },
        { opType: 'Gather', input: ['shp', 'zero'], output: ['n'], attribute: [int('axis', 0)] },
        { opType: 'Unsqueeze', input: ['n'], output: ['n1'], attribute: [ints('axes', [0])] },
        { opType: 'Concat', input: ['n1', 'minus1'], output: ['shape2'], attribute: [int('axis', 0)] },
        { opType: 'Reshape', input: ['i', 'shape2'], output: ['flat'] },
        { opType: 'MatMul', input: ['flat', 'wt'], output: ['y'] },
      ],
      inputs: [port('x', [1, 2, 3, 3])],
      outputs: ['y'],
      inits: [intInit('zero', [0], []), intInit('minus1', [-1])],
    };
    const m = nn.loadOnnxSync(encode(s));
    expect(m.layers().map((l) => l.op)).toEqual(['MatMul']);
    const y = m.runSync({ x: x4 }).y;
    expect([...y.shape]).toEqual([1, 5]);
    const sum = x4.data.reduce((p, v) => p + v, 0);
    expectClose(y.data, new Array(5).fill(sum * 0.25));
    m.dispose();
  });

  test('an output that is an input (through Identity) is a copy', () => {
    const s: Spec = { nodes: [{ opType: 'Identity', input: ['x'], output: ['y'] }], inputs: [port('x', [1, 2, 3, 3])], outputs: ['y'] };
    const y = run1(s, x4);
    expect(y.data).not.toBe(x4.data);
    expect([...y.data]).toEqual([...x4.data]);
  });
});

describe('operators across opsets', () => {
  const x = randomTensor([2, 3, 4, 4], 11);
  const xp = port('x', [2, 3, 4, 4]);
  const one = (opType: string, opset: number, extra: Partial<Node> = {}, inits: onnx.ITensorProto[] = []): Spec => ({
    opset,
    nodes: [{ opType, input: ['x', ...(extra.input ?? [])], output: ['y'], attribute: extra.attribute ?? [] }],
    inputs: [xp],
    outputs: ['y'],
    inits,
  });

  test('Clip: attributes before opset 11, inputs from 11', () => {
    const want = nn.clip(x, -0.25, 0.5).data;
    expectClose(run1(one('Clip', 6, { attribute: [flt('min', -0.25), flt('max', 0.5)] }), x).data, want);
    const lo = floatInit('lo', nn.tensor(Float32Array.of(-0.25), []));
    const hi = floatInit('hi', nn.tensor(Float32Array.of(0.5), []));
    expectClose(run1(one('Clip', 11, { input: ['lo', 'hi'] }, [lo, hi]), x).data, want);
    expectClose(run1(one('Clip', 13, { input: ['', 'hi'] }, [hi]), x).data, nn.clip(x, -3.4e38, 0.5).data);
  });

  test('Pad: attribute before opset 11, input from 11', () => {
    const pads = [0, 0, 1, 2, 0, 0, 2, 1];
    const want = nn.pad(x, pads, 0.5);
    expectClose(run1(one('Pad', 2, { attribute: [ints('pads', pads), flt('value', 0.5)] }), x).data, want.data);
    const v = floatInit('v', nn.tensor(Float32Array.of(0.5), []));
    expectClose(run1(one('Pad', 11, { input: ['p', 'v'] }, [intInit('p', pads), v]), x).data, want.data);
  });

  test('Sub and Div, numpy broadcasting (opset 13) and legacy axis broadcasting (opset 6)', () => {
    const c = randomTensor([3], 12);
    const c4 = nn.tensor(c.data, [1, 3, 1, 1]);
    for (const [op, fn] of [['Sub', nn.sub], ['Div', nn.div], ['Add', nn.add], ['Mul', nn.mul]] as const) {
      const want = fn(x, c4).data;
      expectClose(run1(one(op, 6, { input: ['c'], attribute: [int('broadcast', 1), int('axis', 1)] }, [floatInit('c', c)]), x).data, want);
      expectClose(run1(one(op, 13, { input: ['c'] }, [floatInit('c', c4)]), x).data, want);
    }
  });

  test('Sum of three, Neg, LeakyRelu, Sigmoid, Tanh, PRelu', () => {
    const s: Spec = { nodes: [{ opType: 'Sum', input: ['x', 'x', 'x'], output: ['y'] }], inputs: [xp], outputs: ['y'] };
    expectClose(run1(s, x).data, Array.from(x.data, (v) => 3 * v));
    expectClose(run1(one('Neg', 13), x).data, Array.from(x.data, (v) => -v));
    expectClose(run1(one('LeakyRelu', 13, { attribute: [flt('alpha', 0.2)] }), x).data, nn.leakyRelu(x, 0.2).data);
    expectClose(run1(one('Sigmoid', 13), x).data, nn.sigmoid(x).data);
    expectClose(run1(one('Tanh', 13), x).data, nn.tanh(x).data);
    const slope = randomTensor([3], 13);
    expectClose(run1(one('PRelu', 6, { input: ['s'] }, [floatInit('s', slope)]), x).data, nn.prelu(x, nn.tensor(slope.data, [3, 1, 1])).data);
  });

  test('Softmax/LogSoftmax: 2-D coercion before opset 13, one axis from 13', () => {
    const old = run1(one('Softmax', 11, { attribute: [int('axis', 1)] }), x);
    expectClose(old.data, nn.softmax(nn.reshape(x, [2, 48]), { axis: 1 }).data);
    expectClose(run1(one('LogSoftmax', 13, { attribute: [int('axis', 1)] }), x).data, nn.logSoftmax(x, { axis: 1 }).data);
  });

  test('Unsqueeze/Squeeze: attribute axes before 13, input from 13; Flatten; Transpose; Concat', () => {
    const s11: Spec = {
      opset: 11,
      nodes: [
        { opType: 'Unsqueeze', input: ['x'], output: ['u'], attribute: [ints('axes', [0])] },
        { opType: 'Squeeze', input: ['u'], output: ['q'], attribute: [ints('axes', [0])] },
        { opType: 'Flatten', input: ['q'], output: ['y'], attribute: [int('axis', 2)] },
      ],
      inputs: [xp],
      outputs: ['y'],
    };
    const y = run1(s11, x);
    expect([...y.shape]).toEqual([6, 16]);
    const s13: Spec = {
      nodes: [
        { opType: 'Unsqueeze', input: ['x', 'ax'], output: ['u'] },
        { opType: 'Squeeze', input: ['u', 'ax'], output: ['q'] },
        { opType: 'Transpose', input: ['q'], output: ['t'], attribute: [ints('perm', [0, 2, 3, 1])] },
        { opType: 'Concat', input: ['t', 't'], output: ['y'], attribute: [int('axis', -1)] },
      ],
      inputs: [xp],
      outputs: ['y'],
      inits: [intInit('ax', [4])],
    };
    const t = nn.transpose(x, [0, 2, 3, 1]);
    expectClose(run1(s13, x).data, nn.concat([t, t], 3).data);
  });

  test('Gemm with transB and a broadcast C; pooling and LRN', () => {
    const a = randomTensor([2, 48], 14);
    const bw = randomTensor([5, 48], 15);
    const c = randomTensor([5], 16);
    const s: Spec = {
      nodes: [
        { opType: 'Flatten', input: ['x'], output: ['f'] },
        { opType: 'Gemm', input: ['f', 'b', 'c'], output: ['y'], attribute: [int('transB', 1), flt('alpha', 0.5), flt('beta', 2)] },
      ],
      inputs: [xp],
      outputs: ['y'],
      inits: [floatInit('b', bw), floatInit('c', c)],
    };
    const xa = nn.tensor(a.data, [2, 3, 4, 4]);
    expectClose(run1(s, xa).data, nn.gemm(a, bw, { transB: true, alpha: 0.5, beta: 2, c }).data);
    expectClose(run1(one('MaxPool', 8, { attribute: [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])] }), x).data, nn.maxPool2d(x, { kernel: 2, strides: 2 }).data);
    expectClose(run1(one('AveragePool', 10, { attribute: [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])] }), x).data, nn.avgPool2d(x, { kernel: 3, pads: 1 }).data);
    expectClose(run1(one('GlobalAveragePool', 1), x).data, nn.globalAvgPool(x).data);
    expectClose(run1(one('LRN', 1, { attribute: [int('size', 3)] }), x).data, nn.lrn(x, { size: 3 }).data);
  });
});

describe('small float inputs whose values planning reads', () => {
  // Resize's scales fed as a graph input: the model is planned on their
  // values, one program per value, and a new value gives a new shape. Clip's
  // bounds need no planning: its kernel reads them when it runs.
  const xs = nn.tensor(new Float32Array([-3, -1, 0, 0.5, 2, 7]), [2, 3]);
  const scalar = (v: number): nn.Tensor => nn.tensor(new Float32Array([v]), []);
  const nearest = { name: 'mode', type: AT.STRING, s: Buffer.from('nearest') };

  test('Clip with bounds fed, or computed from the data: each run clips to its bounds', async () => {
    const fed = nn.loadOnnxSync(encode({
      nodes: [{ opType: 'Clip', input: ['x', 'lo', 'hi'], output: ['y'] }],
      inputs: [port('x', [2, 3]), port('lo', []), port('hi', [])],
      outputs: ['y'],
    }));
    expect(Array.from(fed.runSync({ x: xs, lo: scalar(-1), hi: scalar(1) }).y.data)).toEqual([-1, -1, 0, 0.5, 1, 1]);
    expect(Array.from(fed.runSync({ x: xs, lo: scalar(0), hi: scalar(5) }).y.data)).toEqual([0, 0, 0, 0.5, 2, 5]);
    expect(Array.from((await fed.run({ x: xs, lo: scalar(-1), hi: scalar(1) })).y.data)).toEqual([-1, -1, 0, 0.5, 1, 1]);
    // min > max: every value is max, as ONNX says.
    expect(Array.from(fed.runSync({ x: xs, lo: scalar(3), hi: scalar(2) }).y.data)).toEqual([2, 2, 2, 2, 2, 2]);
    fed.dispose();
    // The upper bound is the input's largest value minus 1 (ReduceMax → Sub): computed, not known when planning.
    const computed = nn.loadOnnxSync(encode({
      nodes: [
        { opType: 'ReduceMax', input: ['x'], output: ['m'], attribute: [int('keepdims', 0)] },
        { opType: 'Sub', input: ['m', 'one'], output: ['hi'] },
        { opType: 'Clip', input: ['x', '', 'hi'], output: ['y'] },
      ],
      inputs: [port('x', [2, 3])],
      outputs: ['y'],
      inits: [floatInit('one', scalar(1))],
    }));
    expect(Array.from(computed.runSync({ x: xs }).y.data)).toEqual([-3, -1, 0, 0.5, 2, 6]);
    computed.dispose();
  });

  test('Clip on integers', () => {
    const m = nn.loadOnnxSync(encode({
      nodes: [{ opType: 'Clip', input: ['x', 'lo', 'hi'], output: ['y'] }],
      inputs: [{ name: 'x', type: { tensorType: { elemType: DT.INT8, shape: { dim: [{ dimValue: 4 }] } } } }],
      outputs: ['y'],
      inits: [{ name: 'lo', dims: [], dataType: DT.INT8, int32Data: [-5] }, { name: 'hi', dims: [], dataType: DT.INT8, int32Data: [5] }],
    }));
    const y = m.runSync({ x: nn.runOp('Cast', [nn.tensor(new Float32Array([-128, -3, 4, 127]), [4])], { to: DT.INT8 })[0] as unknown as nn.Tensor }).y;
    expect(Array.from(y.data as unknown as Int8Array)).toEqual([-5, -3, 4, 5]);
    m.dispose();
  });

  test('Resize with scales fed: the output shape follows the scales', () => {
    const m = nn.loadOnnxSync(encode({
      nodes: [{ opType: 'Resize', input: ['x', '', 'scales'], output: ['y'], attribute: [nearest] }],
      inputs: [port('x', [1, 1, 2, 2]), port('scales', [4])],
      outputs: ['y'],
    }));
    const x = nn.tensor(new Float32Array([1, 2, 3, 4]), [1, 1, 2, 2]);
    const y2 = m.runSync({ x, scales: nn.tensor(new Float32Array([1, 1, 2, 2]), [4]) }).y;
    expect(y2.shape).toEqual([1, 1, 4, 4]);
    expect(Array.from(y2.data.subarray(0, 4))).toEqual([1, 1, 2, 2]);
    const y3 = m.runSync({ x, scales: nn.tensor(new Float32Array([1, 1, 3, 1]), [4]) }).y;
    expect(y3.shape).toEqual([1, 1, 6, 2]);
    m.dispose();
  });

  test('a float input that an op also reads as data is not planned on: Resize with those scales is refused', () => {
    const s: Spec = {
      nodes: [
        { opType: 'Resize', input: ['x', '', 'scales'], output: ['y'], attribute: [nearest] },
        { opType: 'ReduceSum', input: ['scales'], output: ['s'] },
      ],
      inputs: [port('x', [1, 1, 2, 2]), port('scales', [4])],
      outputs: ['y', 's'],
    };
    expect(() => nn.loadOnnxSync(encode(s))).toThrow(/"scales"\) must be known when the model is planned/);
  });
});

describe('dead-node removal', () => {
  test('nodes whose outputs nothing reads are not run, and do not block Conv+Relu fusion', () => {
    const w = randomTensor([2, 1, 3, 3], 21);
    const x = randomTensor([1, 1, 6, 6], 22);
    const m = nn.loadOnnxSync(encode({
      nodes: [
        { opType: 'Conv', input: ['x', 'w'], output: ['c'], attribute: [ints('pads', [1, 1, 1, 1])] },
        { opType: 'Relu', input: ['c'], output: ['y'] },
        // A branch no output reads: Sigmoid of the conv (a second reader that would stop the fusion) and an Exp after it.
        { opType: 'Sigmoid', input: ['c'], output: ['dead1'] },
        { opType: 'Exp', input: ['dead1'], output: ['dead2'] },
      ],
      inputs: [port('x', [1, 1, 6, 6])],
      outputs: ['y'],
      inits: [floatInit('w', w)],
    }));
    const y = m.runSync({ x }).y;
    expect(Array.from(y.data)).toEqual(Array.from(nn.conv2d(x, w, { pads: 1, activation: 'relu' }).data));
    const layers = m.layers();
    expect(layers.map((l) => l.op)).toEqual(['Conv+Relu']);
    m.dispose();
  });
});

describe('int64 values past 2^53 (INT64_MAX / INT64_MIN as "to the end")', () => {
  // PyTorch writes x[:, 1:] as Slice with ends = INT64_MAX, and x[::-1] with ends = INT64_MIN.
  const Long = require('long') as { fromString(s: string): unknown };
  const MAX = Long.fromString('9223372036854775807');
  const MIN = Long.fromString('-9223372036854775808');
  const rawInt64 = (v: bigint): Uint8Array => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, v, true);
    return b;
  };
  const x = nn.tensor(Float32Array.from({ length: 10 }, (_, i) => i), [2, 5]);
  const slice = (ends: onnx.ITensorProto, steps: number, starts: number): Spec => ({
    nodes: [{ opType: 'Slice', input: ['x', 's', 'e', 'a', 'st'], output: ['y'] }],
    inputs: [port('x', [2, 5])],
    outputs: ['y'],
    inits: [intInit('s', [starts]), { ...ends, name: 'e' }, intInit('a', [1]), intInit('st', [steps])],
  });

  test('as int64_data, as raw_data and from a Constant node, forwards and backwards', () => {
    const fwd = [[1, 2, 3, 4], [6, 7, 8, 9]].flat();
    const asList = nn.loadOnnxSync(encode(slice({ dims: [1], dataType: DT.INT64, int64Data: [MAX as number] }, 1, 1)));
    expect(Array.from(asList.runSync({ x }).y.data)).toEqual(fwd);
    const asRaw = nn.loadOnnxSync(encode(slice({ dims: [1], dataType: DT.INT64, rawData: rawInt64(2n ** 63n - 1n) }, 1, 1)));
    expect(Array.from(asRaw.runSync({ x }).y.data)).toEqual(fwd);
    const back = nn.loadOnnxSync(encode(slice({ dims: [1], dataType: DT.INT64, int64Data: [MIN as number] }, -1, -1)));
    expect(Array.from(back.runSync({ x }).y.data)).toEqual([4, 3, 2, 1, 0, 9, 8, 7, 6, 5]);
    const constant: Spec = {
      nodes: [
        { opType: 'Constant', output: ['e'], attribute: [{ name: 'value', type: AT.TENSOR, t: { dims: [1], dataType: DT.INT64, int64Data: [MAX as number] } }] },
        { opType: 'Slice', input: ['x', 's', 'e', 'a'], output: ['y'] },
      ],
      inputs: [port('x', [2, 5])],
      outputs: ['y'],
      inits: [intInit('s', [1]), intInit('a', [1])],
    };
    expect(Array.from(nn.loadOnnxSync(encode(constant)).runSync({ x }).y.data)).toEqual(fwd);
  });
});
