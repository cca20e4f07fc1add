// lib/native.ts sets OpenBLAS's idle-thread spin (OPENBLAS_THREAD_TIMEOUT) to
// 2^4 cycles before the addon loads, unless the user set it (or its old name
// GOTO_THREAD_TIMEOUT): each case in a fresh process, since OpenBLAS reads it
// once when the addon loads.
import { spawnSync } from 'child_process';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');

function envAfterLoad(env: Record<string, string | undefined>): { timeout: string | null; goto: string | null } {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'OPENBLAS_THREAD_TIMEOUT' && k !== 'GOTO_THREAD_TIMEOUT') clean[k] = v;
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  const code = "require('./dist'); console.log(JSON.stringify({ timeout: process.env.OPENBLAS_THREAD_TIMEOUT ?? null, goto: process.env.GOTO_THREAD_TIMEOUT ?? null }))";
  const r = spawnSync(process.execPath, ['-e', code], { cwd: root, env: clean, encoding: 'utf8' });
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('set to 4 when the user set nothing', () => {
  expect(envAfterLoad({})).toEqual({ timeout: '4', goto: null });
});

test("the user's OPENBLAS_THREAD_TIMEOUT is kept", () => {
  expect(envAfterLoad({ OPENBLAS_THREAD_TIMEOUT: '20' })).toEqual({ timeout: '20', goto: null });
});

test("the user's GOTO_THREAD_TIMEOUT is left to OpenBLAS", () => {
  expect(envAfterLoad({ GOTO_THREAD_TIMEOUT: '12' })).toEqual({ timeout: null, goto: '12' });
});
