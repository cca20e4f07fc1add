// Under auto, a quantized model's QLinearConvs run on the integer path (quantized NHWC regions on XNNPACK) or on
// their exact float form, whichever measured faster on this CPU: a quantized model must never run slower than
// its float form blindly (issue 12's "TensorFlow trap"). The choice is cached as auto's others are.
//
// Timing is never asserted: the test clock (NEONN_TEST_AUTO_CLOCK, read once per process) decides which path
// measures faster, so each case runs in a child process of its own. Both paths give the same bits.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as nn from '../../lib';
import { availableBackends } from '../helpers';

const root = path.join(__dirname, '..', '..');
const HAVE_XNNPACK = availableBackends().includes('xnnpack');
if (!HAVE_XNNPACK) console.warn('SKIPPED measured quantized path: the xnnpack backend is unavailable (no quantized regions)');
const describeX = HAVE_XNNPACK ? describe : describe.skip;

// Loads NET under the backend in NEONN_BACKEND, runs it, prints the output and the layers.
const probe = `
  const nn = require('./dist');
  const fs = require('fs');
  const m = nn.loadOnnxSync(process.env.NET);
  const x = nn.tensor(Float32Array.from({ length: 3 * 12 * 12 }, (_, i) => Math.sin(i * 0.37)), [1, 3, 12, 12]);
  const y = m.runSync({ [m.inputNames[0]]: x })[m.outputNames[0]];
  process.stdout.write(JSON.stringify({ y: Array.from(y.data), layers: m.layers() }));
`;

interface Result {
  y: number[];
  layers: nn.OnnxLayer[];
}

let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-qpath-'));
  const model = new nn.Sequential(
    [
      nn.layers.conv2d({ filters: 8, kernel: 3, pads: 1, activation: 'relu' }),
      nn.layers.conv2d({ filters: 8, kernel: 3, pads: 1, activation: 'relu' }),
      nn.layers.globalAvgPool(),
    ],
    { inputShape: [3, 12, 12], seed: 3 },
  );
  const xs = [0, 1, 2].map((s) => nn.tensor(Float32Array.from({ length: 3 * 12 * 12 }, (_, i) => Math.cos(i * 0.1 + s)), [1, 3, 12, 12]));
  fs.writeFileSync(path.join(dir, 'q.onnx'), (await nn.quantize(nn.saveOnnx(model, undefined, { batch: 1 }), xs, { format: 'qoperator' })).onnx);
  // saveOnnx's default: a symbolic batch.
  fs.writeFileSync(path.join(dir, 'q-batch.onnx'), (await nn.quantize(nn.saveOnnx(model), xs, { format: 'qoperator' })).onnx);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(backend: string, cache: string, clock: string, net = 'q.onnx'): Result {
  const r = spawnSync(process.execPath, ['-e', probe], {
    cwd: root,
    env: { ...process.env, NEONN_BACKEND: backend, NEONN_THREADS: '1', NEONN_CACHE_DIR: path.join(dir, cache), NEONN_TEST_AUTO_CLOCK: clock, NET: path.join(dir, net) },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`child failed (${String(r.status)}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Result;
}

function cacheLines(cache: string): string[][] {
  const file = path.join(dir, cache, 'auto-v2.tsv');
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('qdq|')).map((l) => l.split('\t'));
}

describeX('auto: integer path or exact float form, measured', () => {
  test('the integer path when it measures faster: QLinearConvs in int8, the measurement in layers(), saved', () => {
    const ref = run('reference', 'ref', '');
    const r = run('auto', 'a', 'qdq/integer=1000;qdq/float=5000;*=1000');
    expect(r.y).toEqual(ref.y);
    const convs = r.layers.filter((l) => l.op === 'QLinearConv');
    expect(convs).toHaveLength(2);
    for (const l of convs) {
      expect(l.precision).toBe('int8');
      expect(l.choice).toMatch(/measured: integer 1\.000 ms, float (> )?5\.000 ms \(integer\)/);
    }
    const lines = cacheLines('a');
    expect(lines).toHaveLength(1);
    expect(lines[0][1]).toBe('integer');
  });

  test('the float form when it measures faster: no int8 step, each conv says why it runs float', () => {
    const ref = run('reference', 'ref', '');
    const r = run('auto', 'b', 'qdq/integer=5000;qdq/float=1000;*=1000');
    expect(r.y).toEqual(ref.y);
    expect(r.layers.filter((l) => l.precision === 'int8' && l.op === 'QLinearConv')).toHaveLength(0);
    const floats = r.layers.filter((l) => l.op.startsWith('Conv') && l.fallback !== undefined);
    expect(floats).toHaveLength(2);
    for (const l of floats) expect(l.fallback).toMatch(/^runs float \(integer-valued, exact\): measured: integer 5\.000 ms, float 1\.000 ms \(float\)/);
    expect(cacheLines('b').map((l) => l[1])).toEqual(['float']);
    // A later process takes the saved decision unmeasured, whatever its clock says.
    const again = run('auto', 'b', 'qdq/integer=1000;qdq/float=5000;*=1000');
    expect(again.y).toEqual(ref.y);
    expect(again.layers.filter((l) => l.op === 'QLinearConv')).toHaveLength(0);
    expect(again.layers.find((l) => l.fallback !== undefined)!.fallback).toMatch(/measured: float 1\.000 ms, 400% faster than the next \(by an earlier process: /);
  });

  test('a near tie keeps the integer path and is not saved (re-measured next time)', () => {
    const r = run('auto', 'c', 'qdq/integer=1000;qdq/float=980;*=1000');
    expect(r.layers.filter((l) => l.op === 'QLinearConv')).toHaveLength(2);
    expect(cacheLines('c')).toHaveLength(0);
  });

  test('busy cores while measuring: the choice is used but not saved', () => {
    const r = run('auto', 'd', 'qdq/integer=5000@0.2;qdq/float=1000@0.2;*=1000');
    const conv = r.layers.find((l) => l.fallback !== undefined && l.op.startsWith('Conv'));
    expect(conv?.fallback).toMatch(/the cores were busy: not saved/);
    expect(cacheLines('d')).toHaveLength(0);
  });

  test('a symbolic batch is measured at batch 1', () => {
    const ref = run('reference', 'ref', '', 'q-batch.onnx');
    const r = run('auto', 'f', 'qdq/integer=5000;qdq/float=1000;*=1000', 'q-batch.onnx');
    expect(r.y).toEqual(ref.y);
    const conv = r.layers.find((l) => l.fallback !== undefined && l.op.startsWith('Conv'));
    expect(conv?.fallback).toMatch(/measured: integer 5\.000 ms, float 1\.000 ms \(float\) at batch 1$/);
  });

  test('a fixed backend is not measured: xnnpack keeps the integer path', () => {
    const r = run('xnnpack', 'e', 'qdq/integer=5000;qdq/float=1000;*=1000');
    expect(r.layers.filter((l) => l.op === 'QLinearConv')).toHaveLength(2);
    for (const l of r.layers.filter((x) => x.op === 'QLinearConv')) expect(l.choice ?? '').not.toMatch(/measured: integer/);
    expect(cacheLines('e')).toHaveLength(0);
  });
});
