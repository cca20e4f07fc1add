// `npm run docs`: typedoc builds the API reference from the TSDoc of the
// public entry point (lib/index.ts) with no warning at all (typedoc.json
// treats warnings as errors): every type the public API names is documented
// and every {@link} resolves.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');

test('typedoc builds the API docs without warnings', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-api-docs-'));
  try {
    const bin = path.join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');
    const r = spawnSync(process.execPath, [bin, '--out', out], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const log = `${r.stdout}${r.stderr}`;
    expect(log).not.toMatch(/\[warning\]|\[error\]/);
    expect(r.status).toBe(0);
    for (const page of ['index.html', 'functions/loadOnnx.html', 'classes/Tensor.html']) expect(fs.existsSync(path.join(out, page))).toBe(true);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}, 120000);
