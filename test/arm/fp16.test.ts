// NHWC regions on the ARM prebuilds under qemu-user, in fp32 and with
// precision 'fp16': the fp32 region computes what x86-64 computes; on a core
// with half-precision arithmetic (-cpu max: ARMv8.2 FP16, as the Pi 5's
// Cortex-A76) XNNPACK says it runs fp16 and the region computes in half
// precision, within a stated tolerance of fp32 (1e-2 of the largest output);
// on cores without it (cortex-a53, the Pi 3; cortex-a7 on linux-arm) the
// model says so and gives exactly its fp32 results.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { expectClose } from '../helpers';
import { ARM_PLATFORMS, emulationMissing, prebuildMissing, runEmulated, stagePackage, warnSkipped } from './qemu';

const root = path.resolve(__dirname, '..', '..');
const script = path.join(__dirname, 'fp16.js');

interface Result {
  arch: string;
  fp16: boolean;
  config: string;
  out: Record<string, number[] | string[]>;
}

function parse(r: ReturnType<typeof spawnSync>, what: string): Result {
  if (r.status !== 0 || r.signal) throw new Error(`${what} failed (status ${r.status}, signal ${r.signal}):\n${String(r.stderr).slice(0, 2000)}`);
  return JSON.parse(String(r.stdout)) as Result;
}

/** The largest difference, as a share of the largest magnitude of `want`. */
function relDiff(got: number[], want: number[]): number {
  const scale = Math.max(...want.map(Math.abs));
  return Math.max(...got.map((v, i) => Math.abs(v - want[i]))) / scale;
}

// [prebuild, cpu, has FP16 arithmetic]
const RUNS: [string, string, boolean][] = [
  ['linux-arm64', 'max', true],
  ['linux-arm64', 'cortex-a53', false],
  ['linux-arm', 'cortex-a7', false],
];

let native: Result;
beforeAll(() => {
  native = parse(spawnSync(process.execPath, [script], { cwd: root, encoding: 'utf8', env: { ...process.env, NEONN_BACKEND: '', NEONN_PRECISION: '' } }), 'native run');
});

describe.each(RUNS)('NHWC regions on the %s prebuild under qemu-user -cpu %s', (prebuild, cpu, hasFp16) => {
  const p = ARM_PLATFORMS.find((x) => x.prebuild === prebuild)!;
  const why = emulationMissing(p) ?? prebuildMissing(root, p);
  if (why !== null) {
    warnSkipped(`emulated fp16 test (${prebuild}, ${cpu})`, why);
    test.skip(`${prebuild} on ${cpu}: ${why}`, () => undefined);
    return;
  }
  let dir: string;
  let r: Result;
  beforeAll(() => {
    dir = stagePackage(root, p, [script]);
    r = parse(runEmulated(p, cpu, [path.join(dir, 'test', 'fp16.js')], { cwd: dir, timeout: 300_000, env: { NEONN_PRECISION: '' } }), `fp16.js on ${cpu}`);
  }, 320_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the fp32 region: one region, the results x86-64 computes, sync and async alike', () => {
    expect(r.arch).toBe(p.arch);
    expect(r.out['fp32/notes']).toEqual([expect.stringMatching(/^NHWC region on XNNPACK: /)]);
    expectClose(r.out.fp32 as number[], native.out.fp32 as number[], 1e-4, 1e-5 * Math.max(...(native.out.fp32 as number[]).map(Math.abs)));
    expect(r.out['fp32/sync']).toEqual(r.out.fp32);
  });

  if (hasFp16) {
    test('precision fp16: the region runs in half precision, within 1e-2 of fp32', () => {
      expect(r.config).toMatch(/fp16: yes/);
      expect(r.out['fp16/notes']).toEqual([expect.stringMatching(/^NHWC region on XNNPACK in fp16: /)]);
      const fp32 = r.out.fp32 as number[], fp16 = r.out.fp16 as number[];
      expect(relDiff(fp16, fp32)).toBeLessThan(1e-2);
      // Half's rounding shows: not the fp32 bits.
      expect(fp16).not.toEqual(fp32);
      expect(r.out['fp16/sync']).toEqual(fp16);
    });
  } else {
    test('precision fp16 on a core without FP16 arithmetic: says so, and gives the fp32 results', () => {
      expect(r.config).toMatch(/fp16: no/);
      expect(r.out['fp16/notes']).toEqual([expect.stringMatching(/in fp32 \(fp16 asked for; XNNPACK has no fp16 on this CPU\)/)]);
      expect(r.out.fp16).toEqual(r.out.fp32);
    });
  }
});
