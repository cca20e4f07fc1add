// ONNX graphs for the NHWC region tests, and the check they share: a graph's
// results under xnnpack (and in fp16 where XNNPACK has it) against the
// reference's, with the notes layers() gives its regions.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as nn from '../../lib';
import { onnx } from '../../lib/onnx/proto';
import { expectClose, onBackend as on, randomTensor } from '../helpers';

/** The CPU's feature flags (x86 Linux; empty elsewhere). */
export const readCpuFlags = (): string => {
  try {
    return /^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  } catch {
    return '';
  }
};

/** Whether neonn's own x86-64 kernels run here (they need AVX-512F with FMA). */
export const avx512 = process.arch === 'x64' && /\bavx512f\b/.test(readCpuFlags());

export const special = (a: ArrayLike<number>): string[] => Array.from(a).flatMap((v, i) => (Number.isFinite(v) ? [] : [`${i}:${v}`]));

/** ONNX builders. */
export const cw = (o: number, i: number, k: number, seed: number): onnx.ITensorProto => ({
  name: `w${seed}`,
  dims: [o, i, k, k],
  dataType: onnx.TensorProto.DataType.FLOAT,
  floatData: [...randomTensor([o, i, k, k], seed).data],
});
export const conv = (x: string, wname: string, y: string, k: number): onnx.INodeProto => ({
  opType: 'Conv',
  input: [x, wname],
  output: [y],
  attribute: [{ name: 'pads', type: onnx.AttributeProto.AttributeType.INTS, ints: [k >> 1, k >> 1, k >> 1, k >> 1] }],
});
export const port = (name: string, shape: number[]): onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
});
export const constant = (name: string, dims: number[], seed: number): onnx.ITensorProto => ({
  name,
  dims,
  dataType: onnx.TensorProto.DataType.FLOAT,
  floatData: [...randomTensor([dims.reduce((a, b) => a * b, 1)], seed).data].map((v) => v + 2),
});
export function encode(nodes: onnx.INodeProto[], inputs: onnx.IValueInfoProto[], outputs: onnx.IValueInfoProto[], initializer: onnx.ITensorProto[], opset = 13): Uint8Array {
  return onnx.ModelProto.encode({ irVersion: 7, opsetImport: [{ domain: '', version: opset }], graph: { name: 'g', node: nodes, input: inputs, output: outputs, initializer } }).finish();
}

/**
 * `model` on reference and on xnnpack (close to 1e-4) with the notes of its regions; and, where XNNPACK runs
 * fp16 here, loaded with precision 'fp16' (within 1e-2 of the reference's largest output) with its notes (null
 * where it does not).
 */
export function regionNotes(model: Uint8Array, feed: Record<string, nn.Tensor>): { notes: Set<string>; fp16: Set<string> | null } {
  const notesOf = (layers: nn.OnnxLayer[]) => new Set(notes(layers));
  const g = nn.loadOnnxSync(model);
  const want = on('reference', () => g.runSync(feed));
  const [got, layers] = on('xnnpack', () => [g.runSync(feed), g.layers()] as const);
  expectClose(got.y.data, want.y.data, 1e-4, 1e-5);
  g.dispose();
  if (!/fp16: yes/.test(nn.backends().find((b) => b.name === 'xnnpack')!.config ?? '')) return { notes: notesOf(layers), fp16: null };
  const h = nn.loadOnnxSync(model, { precision: 'fp16' });
  const [y16, l16] = on('xnnpack', () => [h.runSync(feed), h.layers()] as const);
  const scale = Math.max(...Array.from(want.y.data, Math.abs));
  expect(Math.max(...Array.from(y16.y.data, (v, i) => Math.abs(v - want.y.data[i]))) / scale).toBeLessThan(1e-2);
  h.dispose();
  return { notes: notesOf(layers), fp16: notesOf(l16) };
}

/**
 * The distinct notes of a model's layers, less what depends on the CPU: on AVX-512 a region's conv of at most 16
 * outputs reads its NCHW entry as it is ("1 transposes in (1 read by its conv as it is instead)"), elsewhere the
 * entry is transposed in. test/xnnpack/nhwc-kernels.test.ts checks that note itself.
 */
export function notes(layers: readonly nn.OnnxLayer[]): string[] {
  return [...new Set(layers.flatMap((l) => (l.choice ? [l.choice.replace(/ \(\d+ read by its conv as it is instead\)/, '')] : [])))];
}

/** Largest |got - want| over the largest |want|. */
export function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return err / scale;
}

/** Runs `model` on reference and on xnnpack; the xnnpack run's relative error and its region notes. */
export function compare(model: Uint8Array, feed: Record<string, nn.Tensor>): { err: number; notes: string[]; shape: number[] } {
  const g = nn.loadOnnxSync(model);
  try {
    const want = Object.values(on('reference', () => g.runSync(feed)))[0];
    const [got, layers] = on('xnnpack', () => [Object.values(g.runSync(feed))[0], g.layers()] as const);
    expect(got.shape).toEqual(want.shape);
    expect(special(got.data)).toEqual([]);
    return { err: relError(got.data, want.data), notes: [...new Set(layers.flatMap((l) => (l.choice ? [l.choice] : [])))], shape: [...got.shape] };
  } finally {
    g.dispose();
  }
}

/**
 * compare() in a process of its own with `env` set (variables the addon reads when it plans a region, such as
 * NEONN_WINOGRAD; jest's process.env is a copy the addon does not see). The model's input is `x`.
 */
export function compareWith(env: Record<string, string>, model: Uint8Array, x: nn.Tensor): { err: number; notes: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-region-'));
  try {
    fs.writeFileSync(path.join(dir, 'm.onnx'), model);
    fs.writeFileSync(path.join(dir, 'x.f32'), new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength));
    const probe = `
      const nn = require('./dist'); const fs = require('fs'); const dir = process.argv[1];
      const g = nn.loadOnnxSync(fs.readFileSync(dir + '/m.onnx'));
      const b = fs.readFileSync(dir + '/x.f32');
      const x = nn.tensor(new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4), ${JSON.stringify([...x.shape])});
      const run = (backend) => { nn.setBackend(backend); return Object.values(g.runSync({ x }))[0].data; };
      const want = run('reference'), got = run('xnnpack');
      let err = 0, scale = 0;
      for (let i = 0; i < want.length; i++) { err = Math.max(err, Math.abs(got[i] - want[i])); scale = Math.max(scale, Math.abs(want[i])); }
      const notes = [...new Set(g.layers().flatMap((l) => (l.choice ? [l.choice] : [])))];
      console.log(JSON.stringify({ err: err / scale, notes }));`;
    const r = spawnSync(process.execPath, ['-e', probe, dir], {
      cwd: path.resolve(__dirname, '../..'),
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout) as { err: number; notes: string[] };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
