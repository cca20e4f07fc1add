// The README's example runs as written (ESM, top-level await, from the package name).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');

test('the README example runs and prints what its comments say', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const m = /<!-- readme-example[^>]*-->\s*```ts\n([\s\S]*?)```/.exec(readme);
  expect(m).not.toBeNull();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', m![1]], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NEONN_BACKEND: '' },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout.trim().split('\n')).toEqual(['auto [ 1, 10 ]', 'true']);
});
