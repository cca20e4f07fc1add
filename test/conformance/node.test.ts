// ONNX operator conformance: every node test under
// ../shared/onnx-conformance/node/ (model.onnx + test_data_set_N/*.pb) run
// through the public op API by a small interpreter, on every backend.
// A test whose op neonn lacks fails ("nn.conv2d is not implemented"); an op
// type the interpreter cannot map fails naming the op and the node.
import { existsSync, readdirSync } from 'fs';
import * as path from 'path';
import * as nn from '../../lib';
import { availableBackends, expectClose, reportUnavailable } from '../helpers';
import { IntTensor, Value, runModel } from '../onnx/interpreter';
import { loadModel, loadTensorProto, onnx, tensorFromProto } from '../onnx/proto';
import { jsOps } from './js-ops';

/** The checkout has `shared/` as a sibling (CI and developer machines alike). */
const ROOT = path.resolve(__dirname, '../../../shared/onnx-conformance');
const NODE_DIR = path.join(ROOT, 'node');

const cases: string[] = existsSync(NODE_DIR)
  ? readdirSync(NODE_DIR)
      .filter((d) => existsSync(path.join(NODE_DIR, d, 'model.onnx')))
      .sort()
  : [];

interface DataSet {
  name: string;
  inputs: Value[];
  outputs: nn.Tensor[];
}
interface Case {
  model: onnx.ModelProto;
  sets: DataSet[];
}

/** Files numbered input_0.pb, input_1.pb, ... in numeric order. */
function numbered(dir: string, prefix: string): string[] {
  const files: string[] = [];
  for (let i = 0; existsSync(path.join(dir, `${prefix}_${i}.pb`)); i++) files.push(path.join(dir, `${prefix}_${i}.pb`));
  return files;
}

const loaded = new Map<string, Case>();
function loadCase(name: string): Case {
  let c = loaded.get(name);
  if (c) return c;
  const dir = path.join(NODE_DIR, name);
  const sets = readdirSync(dir)
    .filter((d) => d.startsWith('test_data_set_'))
    .sort()
    .map((d) => {
      const setDir = path.join(dir, d);
      const inputs = numbered(setDir, 'input').map((f) => {
        const t = loadTensorProto(f);
        // Node tests feed float data; an integer input would be a new case to map.
        return tensorFromProto(t);
      });
      const outputs = numbered(setDir, 'output').map((f) => tensorFromProto(loadTensorProto(f)));
      return { name: d, inputs, outputs };
    });
  if (sets.length === 0) throw new Error(`${dir} has no test_data_set_*`);
  c = { model: loadModel(path.join(dir, 'model.onnx')), sets };
  loaded.set(name, c);
  return c;
}

/**
 * expectClose, except that an expected ±Infinity must be matched exactly.
 * The opset-6 Add tests hold float64 garbage (uninitialized PyTorch tensors)
 * up to 1e228: as float32 those are ±Infinity in inputs and outputs alike, and
 * Infinity - Infinity is NaN, which expectClose would call a mismatch.
 */
function expectCloseOrSameInf(got: Float32Array, want: Float32Array): void {
  const g = Float32Array.from(got);
  const w = Float32Array.from(want);
  for (let i = 0; i < w.length && i < g.length; i++) {
    if (!Number.isFinite(w[i]) && !Number.isNaN(w[i])) {
      if (g[i] !== w[i]) throw new Error(`element ${i}: got ${g[i]}, want ${w[i]}`);
      g[i] = 0;
      w[i] = 0;
    }
  }
  expectClose(g, w, 1e-4, 1e-5);
}

function check(name: string, run: (c: Case, set: DataSet) => Value[]): void {
  const c = loadCase(name);
  for (const set of c.sets) {
    const got = run(c, set);
    expect(got.length).toBeGreaterThanOrEqual(set.outputs.length);
    set.outputs.forEach((want, k) => {
      const g = got[k];
      if (g instanceof IntTensor) throw new Error(`${set.name} output ${k}: got an integer tensor`);
      try {
        expect([...g.shape]).toEqual([...want.shape]);
        expectCloseOrSameInf(g.data, want.data);
      } catch (e) {
        if (e instanceof Error) e.message = `${set.name} output ${k}: ${e.message}`;
        throw e;
      }
    });
  }
}

if (cases.length === 0) {
  test('ONNX conformance data is present', () => {
    throw new Error(`no ONNX node tests under ${NODE_DIR}: the checkout needs ../shared/onnx-conformance beside it`);
  });
} else {
  // The harness itself, on plain-JS ops: a failure here is a bug in the
  // interpreter or the decoding, not in neonn.
  describe('harness self-check (interpreter on plain-JS ops)', () => {
    test.each(cases)('%s', (name) => check(name, (c, set) => runModel(c.model, set.inputs, jsOps)));
  });

  const backends = availableBackends();
  reportUnavailable('ONNX node conformance');
  afterAll(() => nn.setBackend(backends[0]));

  describe.each(backends)('ONNX node tests on %s', (backend) => {
    beforeAll(() => nn.setBackend(backend));
    test.each(cases)('%s', (name) => check(name, (c, set) => runModel(c.model, set.inputs)));
  });
}

describe('interpreter', () => {
  test('an op type it cannot map fails naming the op and the node', () => {
    const model = onnx.ModelProto.create({
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        node: [
          { opType: 'Relu', input: ['x'], output: ['y'] },
          { opType: 'Gelu', name: 'act1', input: ['y'], output: ['z'] },
        ],
        input: [{ name: 'x' }],
        output: [{ name: 'z' }],
      },
    });
    expect(() => runModel(model, [nn.tensor(new Float32Array(2))], jsOps)).toThrow(/unsupported ONNX op\(s\): Gelu node #1 "act1"/);
  });

  test('an op from another domain fails naming it', () => {
    const model = onnx.ModelProto.create({
      opsetImport: [{ domain: '', version: 13 }],
      graph: { node: [{ opType: 'Relu', domain: 'com.microsoft', input: ['x'], output: ['y'] }], input: [{ name: 'x' }], output: [{ name: 'y' }] },
    });
    expect(() => runModel(model, [nn.tensor(new Float32Array(2))], jsOps)).toThrow(/com\.microsoft\.Relu node #0/);
  });
});
