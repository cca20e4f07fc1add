/**
 * `npx neonn bench` (bench/models.js) runs end to end on one light model and
 * writes a JSON report and an SVG chart of the expected shape. Timings are
 * never asserted: the machine is shared and they mean nothing here.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const script = path.resolve(__dirname, '..', '..', 'bench', 'models.js');

describe('bench/models.js --quick --models squeezenet --runs 2', () => {
  let dir: string;
  let report: {
    quick: boolean;
    runs: number;
    ort: boolean;
    failures: string[];
    rows: { model: string; runtime: string; backend: string; threads: number; loadMs: number; firstMs: number; medianMs: number; gflops: number; peakRssMB: number; flops: number; vsOrt: number | null; startVsOrt: number | null }[];
  };
  let svg: string;
  let stdout: string;
  let userCache: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-bench-test-'));
    const json = path.join(dir, 'models.json');
    userCache = path.join(dir, 'user-cache');
    fs.mkdirSync(userCache);
    stdout = execFileSync(process.execPath, [script, '--quick', '--models', 'squeezenet', '--runs', '2', '--json', json], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 55000,
      env: { ...process.env, NEONN_CACHE_DIR: userCache },
    });
    report = JSON.parse(fs.readFileSync(json, 'utf8'));
    svg = fs.readFileSync(path.join(dir, 'models.svg'), 'utf8');
  }, 60000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the JSON report has one well-formed row per pair and no failures', () => {
    expect(report.quick).toBe(true);
    expect(report.runs).toBe(2);
    expect(report.failures).toEqual([]);
    const neonn = report.rows.filter((r) => r.runtime === 'neonn');
    expect(neonn.length).toBeGreaterThan(0);
    expect(neonn.some((r) => r.backend === 'reference')).toBe(false);
    for (const r of report.rows) {
      expect(r.model).toBe('squeezenet');
      expect(Number.isInteger(r.threads) && r.threads >= 1).toBe(true);
      for (const k of ['loadMs', 'firstMs', 'medianMs', 'gflops', 'peakRssMB', 'flops'] as const) expect(r[k]).toBeGreaterThan(0);
    }
    const ort = report.rows.filter((r) => r.runtime === 'ort');
    expect(ort.length).toBe(report.ort ? 1 : 0);
    for (const r of neonn) {
      expect(r.vsOrt === null).toBe(!report.ort);
      expect(r.startVsOrt === null).toBe(!report.ort);
    }
  });

  test("each neonn pair starts cold: the user's tuning cache is neither read nor written", () => {
    // The pairs measure from an empty cache of their own; the user's stays as it was (empty here).
    expect(fs.readdirSync(userCache)).toEqual([]);
    for (const r of report.rows) expect(r.firstMs).toBeGreaterThan(0);
  });

  test('stdout has the markdown table header and one line per row', () => {
    expect(stdout).toContain('| model | backend | threads | load ms | 1st run ms | median ms | GFLOP/s | peak RSS MB | vs ORT | start vs ORT |');
    expect(stdout.split('\n').filter((l) => l.startsWith('| squeezenet |')).length).toBe(report.rows.length);
  });

  test('the SVG is one <svg> element with a rect per bar', () => {
    expect(svg.startsWith('<svg ')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    // Bars carry a <title>; the background and legend rects do not.
    const bars = svg.match(/<rect [^>]*><title>/g) ?? [];
    expect(bars.length).toBe(report.rows.length);
    // Every opened element is closed (XML-ish balance of the tags used).
    for (const tag of ['text', 'title', 'rect']) {
      const open = (svg.match(new RegExp(`<${tag}[ >]`, 'g')) ?? []).length;
      const closed = (svg.match(new RegExp(`</${tag}>`, 'g')) ?? []).length + (svg.match(new RegExp(`<${tag} [^>]*/>`, 'g')) ?? []).length;
      expect(closed).toBe(open);
    }
  });
});
