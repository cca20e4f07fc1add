/** @jest-environment ./test/onnx-export/ort-environment.js */
// `neonn quantize` as a user runs it (dist/cli.js in a child process): a
// directory of photos or of .f32 tensors in, an int8 ONNX model out that
// onnxruntime-node and neonn both run; usage errors are one line and exit 2.
import { spawnSync } from 'child_process';
import { copyFileSync, existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import * as nn from '../../lib';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const MODELS = path.resolve(ROOT, '../shared/real-models');
const model = (name: string): string => path.join(MODELS, name, 'model.onnx');
const f32 = (file: string): Float32Array => {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};
function argmax(d: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < d.length; i++) if (d[i] > d[best]) best = i;
  return best;
}

function neonn(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: os.tmpdir(), timeout: 300000 });
}

const HAVE = existsSync(model('ppocr_cls')) && existsSync(model('mnist8'));
if (!HAVE) console.warn(`SKIPPED: neonn quantize runs: the shared models are missing under ${MODELS}`);
const maybe = HAVE ? describe : describe.skip;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'neonn-quantize-'));

maybe('neonn quantize', () => {
  test('ppocr_cls calibrated on the shared photos: --json report, a model onnxruntime and neonn run with the float argmax', async () => {
    const photos = path.join(tmp, 'photos');
    mkdirSync(photos);
    for (const f of readdirSync(path.join(MODELS, 'images'))) copyFileSync(path.join(MODELS, 'images', f), path.join(photos, f));
    const out = path.join(tmp, 'cls.int8.onnx');
    const r = neonn('quantize', model('ppocr_cls'), '--calibrate', photos, '--out', out, '--size', '48x192', '--scale', '1/255', '--mean', '0.5', '--std', '0.5', '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { calibration: string[]; outputs: nn.QuantizeOutputError[]; quantizedOps: Record<string, number> };
    expect(report.calibration).toHaveLength(readdirSync(photos).length);
    expect(report.outputs[0].argmaxAgreement).toEqual({ same: report.calibration.length, total: report.calibration.length });
    expect(report.quantizedOps.Conv).toBeGreaterThan(0);
    // The stored input (bus.jpg as io.json prepares it): the float argmax, in both runtimes.
    const x = f32(path.join(MODELS, 'ppocr_cls', 'input_0.f32'));
    const want = argmax(f32(path.join(MODELS, 'ppocr_cls', 'output_0.f32')));
    const s = await ort.InferenceSession.create(readFileSync(out));
    const o = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, [1, 3, 48, 192]) });
    expect(argmax(o[s.outputNames[0]].data as Float32Array)).toBe(want);
    const m = await nn.loadOnnx(out);
    expect(argmax(m.runSync({ [m.inputNames[0]]: new nn.Tensor(x, [1, 3, 48, 192]) })[m.outputNames[0]].data)).toBe(want);
    m.dispose();
  });

  test('mnist8 calibrated on .f32 tensors, --format qoperator: text report, QLinearConv in the file', () => {
    const dir = path.join(tmp, 'tensors');
    mkdirSync(dir);
    copyFileSync(path.join(MODELS, 'mnist8', 'input_0.f32'), path.join(dir, 'a.f32'));
    const out = path.join(tmp, 'mnist.int8.onnx');
    const r = neonn('quantize', model('mnist8'), '--calibrate', dir, '--out', out, '--format', 'qoperator');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/mnist\.int8\.onnx: \d+ bytes, qoperator; quantized 2 Conv/);
    expect(r.stdout).toMatch(/Plus214_Output_0: max \|err\| [\d.e-]+, .*argmax unchanged on 1\/1/);
    expect(readFileSync(out).includes(Buffer.from('QLinearConv'))).toBe(true);
    // inspect says what runs in integers and what runs float, and why.
    const i = neonn('inspect', out);
    expect(i.status).toBe(0);
    expect(i.stdout).toMatch(/made by neonn quantize$/m);
    // Under the default qdq: 'auto' on the default backend (auto), the QLinearConvs stay integer (quantized
    // NHWC regions on XNNPACK); the QLinearMatMul, whose integer kernel is a reference loop, runs its exact
    // integer-valued float form; the first MaxPool (DQ → MaxPool → Q) runs on the 8-bit values (the second is
    // followed by a float Reshape). inspect says so.
    expect(i.stdout).toMatch(/^int8: 3 of \d+ steps compute in integers/m);
    expect(i.stdout).toMatch(/QLinearConv 2/);
    expect(i.stdout).toMatch(/DequantizeLinear\+MaxPool\+QuantizeLinear 1/);
    expect(i.stdout).not.toMatch(/× Conv: runs float/);
    expect(i.stdout).toMatch(/1 × MatMul: runs float \(integer-valued, exact\)/);
  });
});

describe('neonn quantize: usage errors are one line, exit 2', () => {
  const empty = mkdtempSync(path.join(os.tmpdir(), 'neonn-quantize-empty-'));
  const m = model('mnist8');
  test.each([
    [['quantize'], /^neonn quantize: missing model\.onnx$/],
    [['quantize', m, '--out', 'x.onnx'], /^neonn quantize: --calibrate <dir> is required/],
    [['quantize', m, '--calibrate', empty], /^neonn quantize: --out <file> is required/],
    [['quantize', m, '--calibrate', '/nonexistent-dir', '--out', 'x.onnx'], /^neonn quantize: --calibrate: no such directory "\/nonexistent-dir"$/],
    [['quantize', m, '--calibrate', empty, '--out', 'x.onnx'], /^neonn quantize: .* holds no photo/],
    [['quantize', m, '--calibrate', empty, '--out', 'x.onnx', '--format', 'int4'], /^neonn quantize: --format must be qdq or qoperator, got "int4"$/],
    [['quantize', m, '--calibrate', empty, '--out', 'x.onnx', '--percentile', '99'], /^neonn quantize: --percentile applies to --calibration percentile only$/],
    [['quantize', m, '--calibrate', empty, '--out', 'x.onnx', '--calibration', 'percentile', '--percentile', '20'], /^neonn quantize: --percentile must be in \(50, 100\]/],
    [['quantize', m, '--calibrate', empty, '--out', 'x.onnx', '--frob'], /^neonn quantize: unknown flag --frob/],
  ])('%j', (args, message) => {
    const r = neonn(...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  });
});
