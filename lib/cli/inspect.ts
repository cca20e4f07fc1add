/**
 * `neonn inspect model.onnx`: what a model takes and gives (symbolic dims
 * kept), its ops, and what neonn would run each step on.
 */
import { readFileSync } from 'fs';
import { CommandSpec, Parsed } from './args';
import type * as NN from '../index';
import { dataTypeName, decodeModel, onnx, toInt } from '../onnx/proto';

export const INSPECT: CommandSpec = {
  name: 'inspect',
  help: `usage: neonn inspect <model.onnx> [--json]

  prints the model's inputs and outputs (element type, dims with their symbols),
  its op counts and parameters, then loads it into neonn and says which backend
  serves each kind of step (after fusion) under the active backend (NEONN_BACKEND)

  --json            print one JSON object instead of text`,
  flags: { '--json': 'bool' },
  positionals: [1, 1],
  positionalName: 'model.onnx',
};

interface Io {
  name: string;
  dtype: string;
  dims: (number | string)[];
}

function io(v: onnx.IValueInfoProto): Io {
  const t = v.type?.tensorType;
  const dims = (t?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue === null || d.dimValue === undefined ? '?' : toInt(d.dimValue)));
  return { name: v.name ?? '', dtype: dataTypeName(t?.elemType).toLowerCase(), dims };
}

/** `neonn inspect`: returns the exit code. */
export async function inspect({ flags, positionals }: Parsed): Promise<number> {
  const file = positionals[0];
  const model = decodeModel(readFileSync(file));
  const g = model.graph!;
  const initializers = new Set((g.initializer ?? []).map((t) => t.name));
  const inputs = (g.input ?? []).filter((i) => !initializers.has(i.name)).map(io);
  const outputs = (g.output ?? []).map(io);
  const ops = new Map<string, number>();
  for (const n of g.node ?? []) {
    const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType ?? '?';
    ops.set(key, (ops.get(key) ?? 0) + 1);
  }
  const opCounts = [...ops].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  let parameters = 0;
  for (const t of g.initializer ?? []) parameters += (t.dims ?? []).reduce<number>((a, d) => a * toInt(d), 1);
  const opsets = (model.opsetImport ?? []).map((o) => `${o.domain || 'ai.onnx'} ${toInt(o.version)}`);

  // Loaded here: the structure above needs no addon.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nn = require('../index') as typeof NN;
  let neonn:
    | { backend: string; steps: number; byBackend: Record<string, Record<string, number>>; int8Steps: number; fallbacks: Record<string, number>; note?: string }
    | { error: string };
  try {
    const m = await nn.loadOnnx(file);
    let layers = m.layers();
    // A symbolic batch is taken as 1; other symbolic dims leave the model uncompiled until a run gives them.
    const shapes = m.inputDims.map((d) => d.map((x, i) => (typeof x === 'number' && x > 0 ? x : i === 0 ? 1 : -1)));
    if (layers.length === 0 && shapes.every((s) => !s.includes(-1)) && m.inputDtypes.every((t) => t === 'float32')) {
      // Compiled on the first run: one run on zeros shows the steps.
      await m.run(Object.fromEntries(m.inputNames.map((n, i) => [n, nn.tensor(new Float32Array(shapes[i].reduce((a, d) => a * d, 1)), shapes[i])])));
      layers = m.layers();
    }
    const byBackend: Record<string, Record<string, number>> = {};
    for (const l of layers) {
      const b = (byBackend[l.backend] ??= {});
      b[l.op] = (b[l.op] ?? 0) + 1;
    }
    // Integer steps, and the ops between Q/DQ pairs that stayed float, counted by reason.
    const fallbacks: Record<string, number> = {};
    for (const l of layers) if (l.fallback) fallbacks[`${l.op}: ${l.fallback}`] = (fallbacks[`${l.op}: ${l.fallback}`] ?? 0) + 1;
    neonn = { backend: nn.getBackend(), steps: layers.length, byBackend, int8Steps: layers.filter((l) => l.precision === 'int8').length, fallbacks };
    if (layers.length === 0) neonn.note = 'symbolic input dims: compiled at the first run, for its shapes (neonn run --size/--shape)';
    m.dispose();
  } catch (err) {
    neonn = { error: (err as Error).message };
  }

  if (flags.has('--json')) {
    console.log(JSON.stringify({ model: file, producer: `${model.producerName ?? ''} ${model.producerVersion ?? ''}`.trim(), opsets, inputs, outputs, nodes: (g.node ?? []).length, ops: Object.fromEntries(opCounts), parameters, neonn }, null, 2));
    return 'error' in neonn ? 1 : 0;
  }
  const line = (x: Io): string => `  ${x.name}  ${x.dtype} [${x.dims.join(', ')}]`;
  console.log(`${file}: ${(g.node ?? []).length} nodes, ${parameters.toLocaleString('en-US')} parameters, opset ${opsets.join(', ')}${model.producerName ? `, made by ${model.producerName} ${model.producerVersion ?? ''}`.trimEnd() : ''}`);
  console.log('inputs:');
  inputs.forEach((x) => console.log(line(x)));
  console.log('outputs:');
  outputs.forEach((x) => console.log(line(x)));
  console.log('ops:');
  console.log(`  ${opCounts.map(([op, n]) => `${op} ${n}`).join(', ')}`);
  if ('error' in neonn) {
    console.log(`neonn: cannot load it: ${neonn.error}`);
    return 1;
  }
  console.log(`neonn (backend ${neonn.backend}): ${neonn.note ?? `${neonn.steps} steps after folding and fusion`}`);
  for (const [backend, steps] of Object.entries(neonn.byBackend)) {
    const list = Object.entries(steps).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ${n}`);
    console.log(`  ${backend}: ${list.join(', ')}`);
  }
  const reasons = Object.entries(neonn.fallbacks);
  if (neonn.int8Steps > 0 || reasons.length > 0) {
    console.log(`int8: ${neonn.int8Steps} of ${neonn.steps} steps compute in integers${reasons.length > 0 ? '; float between Q/DQ pairs:' : ''}`);
    for (const [why, n] of reasons) console.log(`  ${n} × ${why}`);
  }
  return 0;
}
