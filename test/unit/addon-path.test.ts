// NEONN_ADDON_PATH (npm run test:asan loads the sanitizer build through it):
// the named file is loaded instead of the usual search, and a missing one is
// the load error naming that path. Child processes: the addon loads once per process.
import { spawnSync } from 'child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { addonPathFromEnv } from '../../lib/config';

const root = path.resolve(__dirname, '..', '..');

function load(addonPath: string): { status: number | null; stdout: string; stderr: string } {
  const script = `const nn = require(${JSON.stringify(root)}); console.log(typeof nn.conv2d, require.cache[${JSON.stringify(addonPath)}] !== undefined);`;
  return spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, NEONN_ADDON_PATH: addonPath } });
}

test('addonPathFromEnv: unset or blank is the usual search', () => {
  expect(addonPathFromEnv({})).toBeUndefined();
  expect(addonPathFromEnv({ NEONN_ADDON_PATH: '  ' })).toBeUndefined();
  expect(addonPathFromEnv({ NEONN_ADDON_PATH: '/x/neonn.node' })).toBe('/x/neonn.node');
});

test('the named addon is the one loaded', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'neonn-addon-'));
  try {
    const copy = path.join(dir, 'neonn.node');
    copyFileSync(path.join(root, 'build', 'Release', 'neonn.node'), copy);
    const r = load(copy);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('function true');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing file is ERR_NEONN_LOAD naming it', () => {
  const r = load('/nonexistent/neonn.node');
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/neonn: could not load the native addon/);
  expect(r.stderr).toMatch(/\/nonexistent\/neonn\.node \(missing\)/);
});
