// Every case in test/fuzz-corpus/ (hex text of the model bytes, <name>.onnx.hex:
// what `npm run fuzz` saved as a crash, hang
// or runaway memory, and the loose ends of issue 14 it found) replayed in a
// child process, as the fuzzer ran it: each must load and run, or fail with a
// clean error (a NeonnError, or a TypeError/RangeError naming who threw it),
// within the fuzzer's caps. Never a crash.
import { spawnSync } from 'child_process';
import { readFileSync, readdirSync } from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');
const corpus = path.join(root, 'test', 'fuzz-corpus');
const cases = readdirSync(corpus).filter((f) => f.endsWith('.onnx.hex')).sort();

test('the corpus holds cases to replay, each hex text of an ONNX ModelProto', () => {
  expect(cases.length).toBeGreaterThan(0);
  expect(readdirSync(corpus).filter((f) => !f.endsWith('.onnx.hex'))).toEqual([]);
  for (const f of cases) {
    const text = readFileSync(path.join(corpus, f), 'latin1');
    expect(text).toMatch(/^([0-9a-f]{2})+(\n([0-9a-f]{2})+)*\n$/);
    // A ModelProto starts with a field tag (ir_version, 0x08, in what the fuzzer mutates).
    expect(text.length).toBeGreaterThan(4);
  }
});

test.each(cases)('%s: a result or a clean error, never a crash', (file) => {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'fuzz.js'), '--case', path.join(corpus, file)], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
    maxBuffer: 1 << 20,
  });
  expect(r.signal).toBeNull();
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { outcome: string; message?: string };
  expect(['result', 'error']).toContain(out.outcome);
  if (out.outcome === 'error') expect(out.message).toMatch(/^[A-Za-z][\w.]*: /);
});
