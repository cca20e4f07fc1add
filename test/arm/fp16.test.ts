// precision: 'fp16' on the arm64 prebuild under qemu-user: on a core with
// half-precision arithmetic (-cpu max: ARMv8.2 FP16, as the Pi 5's
// Cortex-A76) XNNPACK says it runs fp16 and the NHWC region computes in half
// precision, within a stated tolerance of fp32 (1e-2 of the largest output);
// on a core without it (cortex-a53, the Pi 3) the same model says so and
// gives exactly its fp32 results.
import * as fs from 'fs';
import * as path from 'path';
import { ARM_PLATFORMS, emulationMissing, prebuildMissing, runEmulated, stagePackage, warnSkipped } from './qemu';

const root = path.resolve(__dirname, '..', '..');
const script = path.join(__dirname, 'fp16.js');
const arm64 = ARM_PLATFORMS.find((p) => p.arch === 'arm64')!;

interface Result {
  arch: string;
  fp16: boolean;
  config: string;
  out: Record<string, number[] | string[]>;
}

/** The largest difference, as a share of the largest magnitude of `want`. */
function relDiff(got: number[], want: number[]): number {
  const scale = Math.max(...want.map(Math.abs));
  return Math.max(...got.map((v, i) => Math.abs(v - want[i]))) / scale;
}

const why = emulationMissing(arm64) ?? prebuildMissing(root, arm64);
if (why !== null) warnSkipped('emulated fp16 test', why);
const suite = why === null ? describe : describe.skip;

suite('precision fp16 on the linux-arm64 prebuild under qemu-user', () => {
  let dir: string;
  const run = (cpu: string): Result => {
    const r = runEmulated(arm64, cpu, [path.join(dir, 'test', 'fp16.js')], { cwd: dir, timeout: 300_000 });
    if (r.status !== 0 || r.signal) throw new Error(`fp16.js on ${cpu} failed (status ${r.status}, signal ${r.signal}):\n${String(r.stderr).slice(0, 2000)}`);
    return JSON.parse(r.stdout) as Result;
  };
  beforeAll(() => {
    dir = stagePackage(root, arm64, [script]);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('-cpu max (ARMv8.2 FP16): the region runs in fp16, within 1e-2 of fp32', () => {
    const r = run('max');
    expect(r.arch).toBe('arm64');
    expect(r.config).toMatch(/fp16: yes/);
    expect(r.out['fp16/notes']).toEqual([expect.stringMatching(/^NHWC region on XNNPACK in fp16: /)]);
    expect(r.out['fp32/notes']).toEqual([expect.stringMatching(/^NHWC region on XNNPACK: /)]);
    const fp32 = r.out.fp32 as number[], fp16 = r.out.fp16 as number[];
    expect(relDiff(fp16, fp32)).toBeLessThan(1e-2);
    // Half's rounding shows: not the fp32 bits.
    expect(fp16).not.toEqual(fp32);
    expect(r.out['fp16/sync']).toEqual(fp16);
  }, 320_000);

  test('-cpu cortex-a53 (no FP16 arithmetic): says so, and fp16 gives the fp32 results', () => {
    const r = run('cortex-a53');
    expect(r.config).toMatch(/fp16: no/);
    expect(r.out['fp16/notes']).toEqual([expect.stringMatching(/in fp32 \(fp16 asked for; XNNPACK has no fp16 on this CPU\)/)]);
    expect(r.out.fp16).toEqual(r.out.fp32);
  }, 320_000);
});
