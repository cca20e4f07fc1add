// One whole model from ../shared/onnx-conformance/models/ (SqueezeNet, the
// cheapest) through nn.loadOnnx with each ARM prebuild under qemu-user, on
// the oldest cores we ship for (linux-arm64 on cortex-a53, linux-arm on
// cortex-a7): both OpenBLAS builds, sync and async, against the expected
// output beside the model. That model's weights are constants, so its output
// does not depend on the input; the zoo's SqueezeNet with seeded random
// weights adds a check whose logits depend on every value, against this
// machine's. Each emulated run takes ~20-60 s (see model.js).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { decodeTensor, tensorFromProto } from '../../lib/onnx/proto';
import { expectClose } from '../helpers';
import { ARM_PLATFORMS, emulationMissing, prebuildMissing, runEmulated, stagePackage, warnSkipped } from './qemu';

const root = path.resolve(__dirname, '..', '..');
const script = path.join(__dirname, 'model.js');
const MODEL = path.resolve(root, '..', 'shared', 'onnx-conformance', 'models', 'squeezenet.onnx');
const EXPECTED = MODEL.replace(/\.onnx$/, '_output_0.pb');

interface ModelResult {
  arch: string;
  backends: string[];
  shared: Record<string, number[]>;
  zoo: { backend: string; logits: number[] };
  winograd: { notes: string[]; err: number };
}

function parse(r: ReturnType<typeof spawnSync>, what: string): ModelResult {
  if (r.status !== 0 || r.signal) {
    throw new Error(`${what} failed (status ${r.status}, signal ${r.signal}):\n${String(r.stderr).slice(0, 2000)}`);
  }
  return JSON.parse(String(r.stdout)) as ModelResult;
}

const noModel = fs.existsSync(MODEL) ? null : `no ${MODEL}: the checkout needs ../shared/onnx-conformance beside it`;

describe.each(ARM_PLATFORMS.map((p) => ({ ...p, cpu: p.cpus[0] })))('SqueezeNet on the $prebuild prebuild under qemu-user -cpu $cpu', (p) => {
  const why = noModel ?? emulationMissing(p) ?? prebuildMissing(root, p);
  if (why !== null) {
    warnSkipped(`emulated ${p.prebuild} model test`, why);
    test.skip(`${p.prebuild}: ${why}`, () => undefined);
    return;
  }
  let arm: ModelResult;
  let native: ModelResult;
  let dir: string;
  beforeAll(() => {
    native = parse(spawnSync(process.execPath, [script, MODEL], { cwd: root, encoding: 'utf8', env: { ...process.env, NEONN_BACKEND: '' }, maxBuffer: 64 << 20 }), 'native run');
    dir = stagePackage(root, p, [script]);
    arm = parse(runEmulated(p, p.cpu, [path.join(dir, 'test', 'model.js'), MODEL], { cwd: dir, timeout: 300_000 }), `${p.prebuild} on ${p.cpu}`);
  }, 320_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the shared model matches its expected output on both OpenBLAS builds, runSync and run', () => {
    const want = tensorFromProto(decodeTensor(fs.readFileSync(EXPECTED)));
    expect(arm.arch).toBe(p.arch);
    expect(arm.backends).toEqual(['openblas', 'openblas-dl']);
    expect(Object.keys(arm.shared).sort()).toEqual(['openblas-dl/run', 'openblas-dl/runSync', 'openblas/run', 'openblas/runSync']);
    for (const got of Object.values(arm.shared)) expectClose(got, want.data, 1e-4, 1e-6);
  });

  test('3x3 convs of an XNNPACK region run as Winograd F(4x4, 3x3) with NEON, within its stated rounding of the reference', () => {
    for (const r of [native, arm]) {
      expect(r.winograd.notes.join(' ')).toMatch(/2 3x3 convs as Winograd F\(4x4, 3x3\)/);
      expect(r.winograd.err).toBeLessThan(1e-4);
    }
  });

  test("the zoo's SqueezeNet (random weights) gives this machine's logits", () => {
    expect(arm.zoo.backend).toBe(native.zoo.backend);
    const scale = Math.max(...native.zoo.logits.map(Math.abs));
    expectClose(arm.zoo.logits, native.zoo.logits, 1e-3, 1e-4 * scale);
  });
});
