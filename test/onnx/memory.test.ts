// dispose() frees a loaded model's native memory at once: SqueezeNet loaded,
// run and disposed 200 times keeps RSS flat (growth under 20 MB after a
// warm-up of 100 rounds: malloc's per-thread arenas, one per libuv thread
// that ran a model, settle only after some dozens of rounds). Measured in a child process with --expose-gc, on dist/ (built by
// `npm run build:ts`), so that jest's own heap does not blur the figure.
import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '../..');
const model = path.resolve(root, '../shared/onnx-conformance/models/squeezenet.onnx');

(existsSync(model) ? test : test.skip)('load → run → dispose 200 times: RSS grows < 20 MB after warm-up', () => {
  const script = `
    const nn = require('./dist');
    const fs = require('fs');
    const bytes = fs.readFileSync(${JSON.stringify(model)});
    const x = nn.tensor(new Float32Array(3 * 224 * 224).fill(0.5), [1, 3, 224, 224]);
    async function once(i) {
      const m = nn.loadOnnxSync(bytes);
      const feeds = { [m.inputNames[0]]: x };
      if (i % 2) await m.run(feeds); else m.runSync(feeds);
      m.dispose();
    }
    function settle() { for (let k = 0; k < 3; k++) global.gc(); return process.memoryUsage().rss; }
    async function main() {
      for (let i = 0; i < 100; i++) await once(i);
      const before = settle();
      for (let i = 0; i < 200; i++) await once(i);
      const after = settle();
      console.log(JSON.stringify({ before, after }));
    }
    main().catch((e) => { console.error(e); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, NEONN_BACKEND: '' } });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const { before, after } = JSON.parse(r.stdout) as { before: number; after: number };
  // eslint-disable-next-line no-console
  console.log(`squeezenet load/run/dispose x200: RSS ${(before / 2 ** 20).toFixed(1)} MB -> ${(after / 2 ** 20).toFixed(1)} MB`);
  expect(after - before).toBeLessThan(20 * 2 ** 20);
}, 60000);
