// dispose() frees a loaded model's native memory at once: SqueezeNet loaded,
// run (sync and async, alternately) and disposed 200 times after a warm-up of
// 100 rounds keeps the C heap flat. Measured in a child process with
// --expose-gc, on dist/ (built by `npm run build:ts`), so that jest's own heap
// does not blur the figure.
//
// The leak check is on `mallocInUse` (glibc's mallinfo2: bytes malloc has handed
// out and not had back), which neither freed pages that malloc keeps nor the
// per-thread arenas of the libuv threads move. A model's weights (5 MB) or one
// input copy (600 KB) leaked per round would add 1 GB or 120 MB; the bound
// allows 8 KB per round. RSS moved by +24 to -12 MB between identical runs
// here (arenas settling, not a leak), so it only gets a sanity bound for what
// malloc does not see (mmap done by a library itself).
import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '../..');
const model = path.resolve(root, '../shared/onnx-conformance/models/squeezenet.onnx');

const MB = 2 ** 20;

(existsSync(model) ? test : test.skip)('load → run → dispose 200 times: the C heap stays flat after warm-up', () => {
  const script = `
    const nn = require('./dist');
    const { binding } = require('./dist/native');
    const fs = require('fs');
    const bytes = fs.readFileSync(${JSON.stringify(model)});
    const x = nn.tensor(new Float32Array(3 * 224 * 224).fill(0.5), [1, 3, 224, 224]);
    async function once(i) {
      const m = nn.loadOnnxSync(bytes);
      const feeds = { [m.inputNames[0]]: x };
      if (i % 2) await m.run(feeds); else m.runSync(feeds);
      m.dispose();
    }
    async function settle() {
      for (let k = 0; k < 3; k++) {
        global.gc();
        // The weights live in native memory a JS view held at load (model.ts adoptConstants): the views'
        // finalizers run in immediates after the collection.
        await new Promise((r) => setImmediate(r));
      }
      return { heap: binding.mallocInUse(), rss: process.memoryUsage().rss };
    }
    async function main() {
      for (let i = 0; i < 100; i++) await once(i);
      const before = await settle();
      for (let i = 0; i < 200; i++) await once(i);
      const after = await settle();
      console.log(JSON.stringify({ before, after }));
    }
    main().catch((e) => { console.error(e); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, NEONN_BACKEND: '' } });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  type Sample = { heap: number; rss: number };
  const { before, after } = JSON.parse(r.stdout) as { before: Sample; after: Sample };
  // eslint-disable-next-line no-console
  console.log(`squeezenet load/run/dispose x200: C heap in use ${(before.heap / MB).toFixed(2)} -> ${(after.heap / MB).toFixed(2)} MB, ` +
    `RSS ${(before.rss / MB).toFixed(1)} -> ${(after.rss / MB).toFixed(1)} MB`);
  expect(before.heap).toBeGreaterThan(0); // glibc reports (every target neonn builds for is glibc)
  expect(after.heap - before.heap).toBeLessThan(1.6 * MB);
  expect(after.rss - before.rss).toBeLessThan(64 * MB);
}, 90000);
