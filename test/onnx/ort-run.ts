// onnxruntime-node as the oracle of ONNX tests: a model run in a child
// process (inside jest's sandbox its native tensors fail its own instanceof
// checks), float32 feeds in, every output back with its dims.
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type * as nn from '../../lib';

const ROOT = path.resolve(__dirname, '../..');

/** Whether onnxruntime-node loads here. */
export const hasOrt = spawnSync(process.execPath, ['-e', "require('onnxruntime-node')"], { cwd: ROOT }).status === 0;

function f32(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** onnxruntime-node's outputs (by name) for `bytes` on float32 `feeds`, one thread. */
export function ortRun(bytes: Uint8Array, feeds: Record<string, nn.Tensor>): Record<string, { data: Float32Array; dims: number[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'neonn-ort-'));
  try {
    writeFileSync(path.join(dir, 'model.onnx'), bytes);
    const names = Object.keys(feeds);
    names.forEach((n, i) => writeFileSync(path.join(dir, `in${i}.bin`), feeds[n].data));
    const script = `
      const ort = require('onnxruntime-node');
      const fs = require('fs');
      const dir = ${JSON.stringify(dir)};
      const names = ${JSON.stringify(names)};
      const shapes = ${JSON.stringify(names.map((n) => feeds[n].shape))};
      (async () => {
        const s = await ort.InferenceSession.create(dir + '/model.onnx', { intraOpNumThreads: 1 });
        const feeds = {};
        names.forEach((n, i) => {
          const b = fs.readFileSync(dir + '/in' + i + '.bin');
          feeds[n] = new ort.Tensor('float32', new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), shapes[i]);
        });
        const r = await s.run(feeds);
        const meta = {};
        s.outputNames.forEach((n, k) => {
          const y = r[n];
          fs.writeFileSync(dir + '/out' + k + '.bin', Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
          meta[n] = { file: 'out' + k + '.bin', dims: y.dims };
        });
        fs.writeFileSync(dir + '/meta.json', JSON.stringify(meta));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`onnxruntime-node failed: ${r.stderr}`);
    const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')) as Record<string, { file: string; dims: number[] }>;
    const out: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (const [n, m] of Object.entries(meta)) out[n] = { data: f32(path.join(dir, m.file)), dims: m.dims };
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
