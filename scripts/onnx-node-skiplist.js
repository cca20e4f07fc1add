#!/usr/bin/env node
// Regenerates test/onnx-node/skip.txt from a run: every selected ONNX node
// test (libonnx-testdata) is run through neonn on every available backend,
// and each one that fails is listed with the first line of its error, grouped
// by cause. Run it after merging ops (the list should only shrink), review
// `git diff test/onnx-node/skip.txt`, then run the suite itself:
//   node scripts/onnx-node-skiplist.js
//   npx jest test/onnx-node/node-tests.test.ts
// It is the test file's NEONN_WRITE_SKIPLIST=1 mode, so the selection, the
// runner and the comparison are the very ones the suite uses.
'use strict';

const { spawnSync } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');
const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const r = spawnSync(process.execPath, [jest, '--runInBand', 'test/onnx-node/node-tests.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NEONN_WRITE_SKIPLIST: '1' },
});
if (r.status !== 0) {
  console.error('onnx-node-skiplist: the run failed; test/onnx-node/skip.txt may not have been written');
  process.exit(r.status ?? 1);
}
const diff = spawnSync('git', ['diff', '--stat', '--', 'test/onnx-node/skip.txt'], { cwd: root, encoding: 'utf8' });
if (diff.status === 0) console.log(diff.stdout.trim() || 'onnx-node-skiplist: skip.txt is unchanged');
