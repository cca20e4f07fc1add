// auto's NHWC region decisions kept on disk (model/program_regions.cc): a
// clear decision measured on idle cores goes to the tuning cache file, and a
// later process with the same machine, libraries, threads and region takes it
// without measuring, computing the same outputs. A busy measurement is not
// kept. Each process is a child with its own cache directory.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { availableBackends } from '../helpers';

const root = path.resolve(__dirname, '..', '..');
const model = path.resolve(root, '..', 'shared', 'real-models', 'mobilenetv2_int8', 'model.onnx');
const ok = availableBackends().includes('xnnpack') && fs.existsSync(model);
if (!ok) console.warn('SKIPPED: region decision cache tests (no xnnpack backend or no shared int8 MobileNetV2)');

const script = `
const nn = require('./dist');
(async () => {
  // qdq 'fuse': the integer path, whose region decision is under test (auto would also measure it against the float form).
  const m = await nn.loadOnnx(${JSON.stringify(model)}, { qdq: 'fuse' });
  const x = new Float32Array(3 * 224 * 224);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.01);
  const y = (await m.run({ [m.inputNames[0]]: nn.tensor(x, [1, 3, 224, 224]) }))[m.outputNames[0]].data;
  const notes = [...new Set(m.layers().map((l) => l.choice).filter(Boolean))];
  console.log(JSON.stringify({ y: Array.from(y.slice(0, 20)), notes }));
})();`;

function child(dir: string, env: Record<string, string> = {}): { y: number[]; notes: string[] } {
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NEONN_CACHE_DIR: dir, NEONN_BACKEND: 'auto', NEONN_TEST_REGIONS_CLEAN: '', ...env },
  });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const regionLines = (dir: string): string[] =>
  fs.existsSync(path.join(dir, 'auto-v2.tsv')) ? fs.readFileSync(path.join(dir, 'auto-v2.tsv'), 'utf8').split('\n').filter((l) => l.startsWith('region|')) : [];

(ok ? describe : describe.skip)('region decisions in the tuning cache', () => {
  test('a clear decision on idle cores is kept; the next process takes it unmeasured, same outputs', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-region-cache-'));
    try {
      const first = child(dir, { NEONN_TEST_REGIONS_CLEAN: '1' });
      expect(first.notes).toEqual([expect.stringMatching(/^measured: NHWC region [\d.]+ ms, layer by layer (> )?[\d.]+ ms \(region\); quantized NHWC region/)]);
      const lines = regionLines(dir);
      expect(lines).toHaveLength(1);
      expect(lines[0].split('\t').slice(1, 3)).toEqual(['region', 'auto']);
      const second = child(dir);
      expect(second.notes).toEqual([expect.stringMatching(/\(region\); quantized NHWC region .* \(measured by an earlier process: .*auto-v2\.tsv\)$/)]);
      expect(second.y).toEqual(first.y);
      // Nothing measured, nothing added.
      expect(regionLines(dir)).toHaveLength(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  test('another thread count is another decision', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-region-cache-'));
    try {
      child(dir, { NEONN_TEST_REGIONS_CLEAN: '1', NEONN_THREADS: '1' });
      expect(regionLines(dir)).toHaveLength(1);
      if (os.cpus().length > 1) {
        const other = child(dir, { NEONN_TEST_REGIONS_CLEAN: '1', NEONN_THREADS: '2' });
        expect(other.notes[0]).not.toMatch(/earlier process/);
        expect(regionLines(dir)).toHaveLength(2);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
