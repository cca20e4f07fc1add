// The README's op table is generated from the op schema and the importer's
// handlers: it must be current (run `node scripts/op-table.js` after adding an op).
import { spawnSync } from 'child_process';
import * as path from 'path';

test('README op table is up to date', () => {
  const r = spawnSync(process.execPath, [path.join(__dirname, '../../scripts/op-table.js'), '--check'], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});
