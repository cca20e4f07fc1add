// bench/pi.js: which Raspberry Pi this is (from fake /proc files) and its
// theoretical fp32 peak, against which `npx neonn bench` reports GFLOP/s.
import * as path from 'path';

interface PiPeak {
  model: string;
  core: string;
  cores: number;
  ghz: number;
  flopsPerCycle: number;
  gflops: number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pi = require(path.resolve(__dirname, '..', '..', 'bench', 'pi.js')) as {
  readPiModel(read?: (file: string) => string): string | null;
  piPeak(model: string | null): PiPeak | null;
  describePeak(p: PiPeak): string;
  peakFraction(p: PiPeak, gflops: number, threads: number): number;
};

/** A reader over fake files; a missing one throws like fs does. */
const files =
  (fake: Record<string, string>) =>
  (file: string): string => {
    if (!(file in fake)) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    return fake[file];
  };

const CPUINFO_PI3 = `processor\t: 0
BogoMIPS\t: 38.40
Features\t: fp asimd evtstrm crc32 cpuid
CPU implementer\t: 0x41
CPU part\t: 0xd03

Hardware\t: BCM2835
Revision\t: a02082
Serial\t\t: 00000000abcdef01
Model\t\t: Raspberry Pi 3 Model B Rev 1.2
`;

describe('readPiModel', () => {
  test('reads /proc/device-tree/model, dropping its trailing NUL', () => {
    expect(pi.readPiModel(files({ '/proc/device-tree/model': 'Raspberry Pi 4 Model B Rev 1.4\0' }))).toBe('Raspberry Pi 4 Model B Rev 1.4');
  });

  test('falls back to the Model line of /proc/cpuinfo', () => {
    expect(pi.readPiModel(files({ '/proc/cpuinfo': CPUINFO_PI3 }))).toBe('Raspberry Pi 3 Model B Rev 1.2');
  });

  test('is null on anything that is not a Pi', () => {
    expect(pi.readPiModel(files({}))).toBeNull();
    expect(pi.readPiModel(files({ '/proc/device-tree/model': 'Pine64 RockPro64 v2.1\0', '/proc/cpuinfo': 'processor\t: 0\nmodel name\t: AMD EPYC\n' }))).toBeNull();
  });
});

describe('piPeak: cores × GHz × FLOP/cycle', () => {
  test.each([
    ['Raspberry Pi 3 Model B Rev 1.2', 'Cortex-A53', 1.2, 8, 38.4],
    ['Raspberry Pi 3 Model B Plus Rev 1.3', 'Cortex-A53', 1.4, 8, 44.8],
    ['Raspberry Pi 4 Model B Rev 1.4', 'Cortex-A72', 1.5, 8, 48],
    ['Raspberry Pi Compute Module 4 Rev 1.0', 'Cortex-A72', 1.5, 8, 48],
    ['Raspberry Pi 400 Rev 1.0', 'Cortex-A72', 1.8, 8, 57.6],
    ['Raspberry Pi 5 Model B Rev 1.0', 'Cortex-A76', 2.4, 16, 153.6],
    ['Raspberry Pi Zero 2 W Rev 1.0', 'Cortex-A53', 1.0, 8, 32],
    ['Raspberry Pi 2 Model B Rev 1.1', 'Cortex-A7', 0.9, 4, 14.4],
    ['Raspberry Pi 2 Model B Rev 1.2', 'Cortex-A53', 0.9, 8, 28.8],
  ])('%s: %s at %s GHz × %s = %s GFLOP/s', (model, core, ghz, flopsPerCycle, gflops) => {
    expect(pi.piPeak(model)).toEqual({ model, core, cores: 4, ghz, flopsPerCycle, gflops });
  });

  test('no peak for a Pi without NEON or for no Pi', () => {
    expect(pi.piPeak('Raspberry Pi Model B Rev 2')).toBeNull();
    expect(pi.piPeak('Raspberry Pi Zero W Rev 1.1')).toBeNull();
    expect(pi.piPeak(null)).toBeNull();
  });

  test('describePeak spells the product out', () => {
    expect(pi.describePeak(pi.piPeak('Raspberry Pi 4 Model B Rev 1.4')!)).toBe(
      'Raspberry Pi 4 Model B Rev 1.4: 4 × Cortex-A72 at 1.5 GHz × 8 FLOP/cycle = 48 GFLOP/s theoretical peak',
    );
  });

  test('peakFraction is against the cores in use', () => {
    const p = pi.piPeak('Raspberry Pi 5 Model B Rev 1.0')!;
    expect(pi.peakFraction(p, 153.6, 4)).toBeCloseTo(1, 12);
    expect(pi.peakFraction(p, 19.2, 1)).toBeCloseTo(0.5, 12);
    expect(pi.peakFraction(p, 76.8, 8)).toBeCloseTo(0.5, 12);
  });
});
