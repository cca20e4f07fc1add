// ONNX operator conformance: every node test under
// ../shared/onnx-conformance/node/ (model.onnx + test_data_set_N/*.pb) run
// through nn.loadOnnx (sync and async), on every backend. An op type the
// importer cannot map fails at load, naming the op and the node.
import { existsSync, readFileSync, readdirSync } from 'fs';
import * as path from 'path';
import * as nn from '../../lib';
import { decodeTensor, tensorFromProto } from '../../lib/onnx/proto';
import { availableBackends, expectClose, reportUnavailable } from '../helpers';

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
  inputs: nn.Tensor[];
  outputs: nn.Tensor[];
}
interface Case {
  bytes: Uint8Array;
  sets: DataSet[];
}

function loadTensorProto(file: string): nn.Tensor {
  return tensorFromProto(decodeTensor(readFileSync(file)));
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
      // Node tests feed float data (some float64, read as float32).
      const inputs = numbered(setDir, 'input').map(loadTensorProto);
      const outputs = numbered(setDir, 'output').map(loadTensorProto);
      return { name: d, inputs, outputs };
    });
  if (sets.length === 0) throw new Error(`${dir} has no test_data_set_*`);
  c = { bytes: readFileSync(path.join(dir, 'model.onnx')), sets };
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

function compare(set: DataSet, got: nn.Tensor[]): void {
  expect(got.length).toBeGreaterThanOrEqual(set.outputs.length);
  set.outputs.forEach((want, k) => {
    const g = got[k];
    try {
      expect([...g.shape]).toEqual([...want.shape]);
      expectCloseOrSameInf(g.data, want.data);
    } catch (e) {
      if (e instanceof Error) e.message = `${set.name} output ${k}: ${e.message}`;
      throw e;
    }
  });
}

function feedsOf(m: nn.OnnxModel, set: DataSet): Record<string, nn.Tensor> {
  expect(set.inputs.length).toBe(m.inputNames.length);
  return Object.fromEntries(m.inputNames.map((n, i) => [n, set.inputs[i]]));
}

async function check(name: string): Promise<void> {
  const c = loadCase(name);
  const m = nn.loadOnnxSync(c.bytes);
  try {
    for (const set of c.sets) {
      const sync = m.runSync(feedsOf(m, set));
      compare(set, m.outputNames.map((n) => sync[n]));
      const outs = await m.run(feedsOf(m, set));
      compare(set, m.outputNames.map((n) => outs[n]));
    }
  } finally {
    m.dispose();
  }
}

if (cases.length === 0) {
  test('ONNX conformance data is present', () => {
    throw new Error(`no ONNX node tests under ${NODE_DIR}: the checkout needs ../shared/onnx-conformance beside it`);
  });
} else {
  const backends = availableBackends();
  reportUnavailable('ONNX node conformance');
  afterAll(() => nn.setBackend(backends[0]));

  describe.each(backends)('ONNX node tests through loadOnnx on %s', (backend) => {
    beforeAll(() => nn.setBackend(backend));
    test.each(cases)('%s', (name) => check(name));
  });
}
