// Quantized NHWC regions on the ARM prebuilds under qemu-user: the shared
// int8 MobileNetV2 (QOperator) runs its 52 QLinearConvs on XNNPACK's NEON qs8
// kernels and gives onnxruntime's stored output exactly, as on x86-64
// (cortex-a53: the Pi 3's core; cortex-a7 on linux-arm: ARMv7 NEON).
import * as fs from 'fs';
import * as path from 'path';
import { ARM_PLATFORMS, emulationMissing, prebuildMissing, runEmulated, stagePackage, warnSkipped } from './qemu';

const root = path.resolve(__dirname, '..', '..');
const script = path.join(__dirname, 'int8.js');
const modelDir = path.resolve(root, '..', 'shared', 'real-models', 'mobilenetv2_int8');

const RUNS: [string, string][] = [
  ['linux-arm64', 'cortex-a53'],
  ['linux-arm', 'cortex-a7'],
];

describe.each(RUNS)('int8 regions on the %s prebuild under qemu-user -cpu %s', (prebuild, cpu) => {
  const p = ARM_PLATFORMS.find((x) => x.prebuild === prebuild)!;
  const why = emulationMissing(p) ?? prebuildMissing(root, p) ?? (fs.existsSync(path.join(modelDir, 'model.onnx')) ? null : `no shared model at ${modelDir}`);
  if (why !== null) {
    warnSkipped(`emulated int8 test (${prebuild}, ${cpu})`, why);
    test.skip(`${prebuild} on ${cpu}: ${why}`, () => undefined);
    return;
  }
  let dir: string;
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("mobilenetv2_int8: one quantized region, onnxruntime's stored output exactly, sync and async", () => {
    dir = stagePackage(root, p, [script]);
    const r = runEmulated(p, cpu, [path.join(dir, 'test', 'int8.js'), modelDir], { cwd: dir, timeout: 300_000 });
    if (r.status !== 0 || r.signal) throw new Error(`int8.js on ${cpu} failed (status ${r.status}, signal ${r.signal}):\n${String(r.stderr).slice(0, 2000)}`);
    const res = JSON.parse(String(r.stdout)) as { arch: string; out: number[]; sync: number[]; convs: number; notes: string[] };
    expect(res.arch).toBe(p.arch);
    const b = fs.readFileSync(path.join(modelDir, 'output_0.f32'));
    const want = Array.from(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)));
    expect(res.out).toEqual(want);
    expect(res.sync).toEqual(want);
    expect(res.convs).toBe(52);
    expect(res.notes).toEqual([expect.stringMatching(/^quantized NHWC region on XNNPACK \(int8\): /)]);
  }, 320_000);
});
