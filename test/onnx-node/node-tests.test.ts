// ONNX's own backend node tests (Debian's libonnx-testdata: ONNX 1.12's node
// tests, /usr/share/libonnx-testdata/data/node/<test>/) through nn.loadOnnx,
// run and runSync, on every available backend.
//
// Which tests run is a fixed function of the data and of LISTED_OPS below
// (the ops issue 10 names plus those neonn imported before it): a test is
// selected when every node of its model (subgraphs included) is an op of that
// list in ONNX's default domain. What neonn happens to support or pass does
// not change the selection. A selected test must pass unless skip.txt names
// it, with a reason; a test skip.txt names that passes fails the suite (the
// list only shrinks). Refresh skip.txt after merging ops with
// `node scripts/onnx-node-skiplist.js` (NEONN_WRITE_SKIPLIST=1 mode below).
//
// Outputs: floats within RTOL of the output's largest magnitude plus ATOL
// (DOUBLE tests run in float32, within the same float32-sized tolerance; NaN
// matches NaN), integers and bools exactly, shapes and dtypes exactly.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import * as nn from '../../lib';
import { SUPPORTED_OPS } from '../../lib/onnx/ops';
import { availableBackends, reportUnavailable } from '../helpers';
import { onnx } from 'onnx-proto';
import { Decoded, ModelInfo, dataSets, decodeTensor, mismatch, modelInfo, readTensor } from './tensors';

const DATA = process.env.NEONN_ONNX_TESTDATA ?? '/usr/share/libonnx-testdata/data/node';
const SKIP_FILE = path.join(__dirname, 'skip.txt');
const WRITE = process.env.NEONN_WRITE_SKIPLIST === '1';

/** The ops of issue 10, then the ones neonn imported before it. Fixed: it decides which tests run. */
export const LISTED_OPS: readonly string[] = [
  // issue 10
  'Resize', 'Upsample', 'Slice', 'Split', 'Cast', 'Exp', 'Log', 'Sqrt', 'Pow', 'Reciprocal', 'Abs', 'Neg', 'Floor', 'Ceil', 'Round',
  'Min', 'Max', 'Mean', 'HardSigmoid', 'HardSwish', 'Softplus', 'Elu', 'Selu', 'Mish', 'Erf', 'Gelu', 'Where', 'Equal', 'Greater',
  'Less', 'Not', 'And', 'Or', 'ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL2', 'ReduceLogSumExp',
  'ArgMax', 'ArgMin', 'TopK', 'GlobalMaxPool', 'ConvTranspose', 'Conv', 'MaxPool', 'AveragePool', 'DepthToSpace', 'SpaceToDepth',
  'Expand', 'Tile', 'Range', 'Shape', 'Size', 'Squeeze', 'Unsqueeze', 'Gather', 'GatherElements', 'ScatterND', 'MatMul',
  'InstanceNormalization', 'LayerNormalization', 'GroupNormalization', 'Pad', 'NonMaxSuppression',
  // before issue 10
  'Add', 'Sub', 'Mul', 'Div', 'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'Clip', 'Softmax', 'LogSoftmax', 'BatchNormalization',
  'LRN', 'Concat', 'Flatten', 'Reshape', 'Transpose', 'Gemm', 'GlobalAveragePool', 'Identity', 'Dropout', 'Constant',
  'ConstantOfShape', 'Sum',
  // after issue 10: the OCR recognizers' recurrent ops
  'LSTM', 'GRU', 'RNN',
  // and small ops they or other OCR nets use
  'Sign', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'Celu', 'CumSum',
  // data-dependent output shapes (NonMaxSuppression is above), run between program segments
  'NonZero',
];
const LISTED = new Set(LISTED_OPS);

interface NodeTest {
  name: string;
  dir: string;
  bytes: Uint8Array;
  info: ModelInfo;
  /** the describe block it goes in: its op */
  group: string;
}

/** The op a test is about: the listed op its name starts with (longest match), else its first word (expanded function bodies) or its model's non-Constant ops. */
function groupOf(name: string, info: ModelInfo): string {
  const flat = name.replace(/^test_/, '').replace(/_/g, '').toLowerCase();
  const byName = [...LISTED_OPS].sort((a, b) => b.length - a.length).find((op) => flat.startsWith(op.toLowerCase()));
  if (byName) return byName;
  // A function body of an op outside the list (NegativeLogLikelihoodLoss, Celu...): by the test's first word.
  if (name.endsWith('_expanded')) return `${name.split('_')[1]} (expanded function body)`;
  const ops = info.ops.filter((o) => o !== 'Constant');
  return ops.length === 0 ? 'Constant' : ops.join('+');
}

/** Every test directory whose model uses listed ops only, sorted by name. */
function selectTests(): { selected: NodeTest[]; total: number } {
  if (!existsSync(DATA)) return { selected: [], total: 0 };
  const dirs = readdirSync(DATA).filter((d) => existsSync(path.join(DATA, d, 'model.onnx'))).sort();
  const selected: NodeTest[] = [];
  for (const name of dirs) {
    const dir = path.join(DATA, name);
    const bytes = readFileSync(path.join(dir, 'model.onnx'));
    const info = modelInfo(bytes);
    if (info.ops.length > 0 && info.ops.every((o) => LISTED.has(o))) selected.push({ name, dir, bytes, info, group: groupOf(name, info) });
  }
  return { selected, total: dirs.length };
}

/** skip.txt: `test_name  # reason` per line; blank lines and lines starting with # are comments. */
function readSkipList(): Map<string, string> {
  const skip = new Map<string, string>();
  if (!existsSync(SKIP_FILE)) return skip;
  for (const raw of readFileSync(SKIP_FILE, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const hash = line.indexOf('#');
    const name = (hash < 0 ? line : line.slice(0, hash)).trim();
    const reason = hash < 0 ? '' : line.slice(hash + 1).trim();
    skip.set(name, reason || 'no reason given');
  }
  return skip;
}

/** The types neonn holds widened (lib/dtype.ts WidenedType): fed as `{ data, shape }` of their own arrays, output as WidenedTensors. */
const WIDENED = new Set(['int16', 'uint16', 'uint32', 'uint64', 'bfloat16', 'string']);

function feedOf(d: Decoded): nn.TensorLike | nn.TypedTensor | { data: unknown; shape: number[] } {
  // nn.Tensor refuses zero-size dims: an empty float input goes as { data, shape }.
  if (d.dtype === 'float32') return d.data.length > 0 ? nn.tensor(d.data as Float32Array, d.shape) : { data: d.data as Float32Array, shape: d.shape };
  if (WIDENED.has(d.dtype)) return { data: d.data, shape: d.shape };
  return new nn.TypedTensor(d.dtype as nn.DType, d.data as nn.TypedData, d.shape);
}

/**
 * ONNX 1.12's data stores a BFLOAT16 tensor as UINT16 (its bits): taken as
 * the bfloat16 the model's port declares.
 */
function asDeclared(d: Decoded, port: { elemType: number } | undefined): Decoded {
  return port?.elemType === onnx.TensorProto.DataType.BFLOAT16 && d.dtype === 'uint16' ? { ...d, dtype: 'bfloat16', elemType: port.elemType } : d;
}

const BACKENDS = availableBackends();

/**
 * Runs one node test: loads its model once, then for every data set and
 * every backend runs it with run and runSync and compares every output.
 * @throws an Error whose first line says what failed
 */
async function runNodeTest(t: NodeTest): Promise<number> {
  const model = await nn.loadOnnx(t.bytes);
  // neonn refuses non-tensor ports at load (what a skipped test's reason says); the harness feeds tensors only.
  for (const p of [...t.info.inputs, ...t.info.outputs]) {
    if (p.kind !== 'tensor') throw new Error(`test harness: ${p.kind} input/output "${p.name}" loaded, but the harness feeds tensors only`);
  }
  let compared = 0;
  try {
    for (const set of dataSets(t.dir)) {
      const feeds: Record<string, ReturnType<typeof feedOf>> = {};
      set.inputs.forEach((file, i) => {
        const raw = readTensor(file);
        const name = model.inputNames.includes(raw.name) ? raw.name : t.info.inputs[i]?.name ?? raw.name;
        feeds[name] = feedOf(asDeclared(raw, t.info.inputs.find((p) => p.name === name)));
      });
      const wants = set.outputs.map((file, i) => {
        const raw = readTensor(file);
        return asDeclared(raw, t.info.outputs.find((p) => p.name === raw.name) ?? t.info.outputs[i]);
      });
      const check = (how: string, outs: Record<string, unknown>): void => {
        const problems: string[] = [];
        wants.forEach((want, i) => {
          const name = model.outputNames.includes(want.name) ? want.name : model.outputNames[i];
          const got = outs[name] as { dtype?: string; data: ArrayLike<number | bigint | string>; shape: readonly number[] } | undefined;
          if (got === undefined) problems.push(`output "${name}" missing`);
          else {
            const m = mismatch(`output "${name}"`, want, got);
            if (m) problems.push(m);
          }
        });
        if (problems.length > 0) throw new Error(`wrong result (${how}): ${problems.join('; ')}`);
        compared += wants.length;
      };
      for (const backend of BACKENDS) {
        nn.setBackend(backend);
        const tag = `${backend}, ${set.name}`;
        check(`runSync on ${tag}`, model.runSync(feeds as nn.OnnxFeeds));
        check(`run on ${tag}`, await model.run(feeds as nn.OnnxFeeds));
      }
    }
  } finally {
    nn.setBackend(BACKENDS[0]);
    model.dispose();
  }
  if (compared === 0) throw new Error(`test harness: ${t.name} has no data set with outputs to compare`);
  return compared;
}

/** First line of an error's message, trimmed and bounded: a skip reason. */
function reasonOf(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  let line = (msg.split('\n').find((l) => l.trim() !== '') ?? '').trim().replace(/\s+/g, ' ');
  // loadOnnx appends the whole list of supported ops to an unsupported one: not a reason.
  line = line.replace(/\s*\(supported[^:]*: .*$/, '');
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** The cause a failure is grouped under in skip.txt, from its reason (and, for training mode, its name). */
function causeOf(t: NodeTest, reason: string): string {
  const r = reason;
  if (/^test harness|neonn's values are tensors/.test(r)) return 'non-tensor inputs or outputs (sequence, optional)';
  if (/unsupported ONNX op/.test(r)) return 'op missing';
  if (/training/i.test(r) || /training/.test(t.name)) return 'training mode';
  if (/dtype unsupported|element type \w+, which is not supported|is not a dtype neonn holds|of type \w+ is not supported|must be a float tensor, got/.test(r)) return 'dtype unsupported';
  if (/must be a positive integer, got 0/.test(r)) return 'zero-size tensors';
  if (/input "[^"]*" must have shape \[/.test(r)) return "test data: a feed's shape contradicts the model's declared input shape";
  if (/only 2-D/.test(r)) return 'rank unsupported (1-D/3-D spatial, N-D MatMul)';
  if (/known when the model is planned|must be a constant/.test(r)) return 'shape/axes/bounds input fed (neonn needs it known when planning)';
  if (/never computed|output\(s\) .* are not supported/.test(r)) return 'optional output unsupported (Dropout mask, MaxPool indices)';
  if (/output that is a constant or an input cannot be copied|nothing to run \(the output is the input itself\)/.test(r)) return 'output that is an input or a constant (no Identity kernel to copy it)';
  if (/model: step \d+/.test(r)) return 'error at run time (planned shape and kernel disagree)';
  if (/attribute|not supported|unsupported|mode/i.test(r)) return 'attribute or form unsupported';
  if (/^wrong result/.test(r)) return 'wrong result';
  return 'other load or run error';
}

const { selected, total } = selectTests();
const skip = readSkipList();

if (selected.length === 0) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED ONNX node tests: no ONNX test data under ${DATA} (apt-get install libonnx-testdata; scripts/setup.sh does)`);
  test.skip(`ONNX node tests: libonnx-testdata is not installed (no ${DATA})`, () => undefined);
} else if (WRITE) {
  test('write skip.txt from a run of every selected test', async () => {
    const failed: { t: NodeTest; reason: string; cause: string }[] = [];
    for (const t of selected) {
      try {
        await runNodeTest(t);
      } catch (e) {
        const reason = reasonOf(e);
        failed.push({ t, reason, cause: causeOf(t, reason) });
      }
    }
    const causes = new Map<string, typeof failed>();
    for (const f of failed) causes.set(f.cause, [...(causes.get(f.cause) ?? []), f]);
    const order = [...causes.keys()].sort((a, b) => causes.get(b)!.length - causes.get(a)!.length);
    const lines = [
      '# ONNX node tests (libonnx-testdata) that neonn does not pass yet, one per line: `test_name  # reason`.',
      '# Generated by `node scripts/onnx-node-skiplist.js` from a run (reason: the first line of the error),',
      '# grouped by cause. A listed test that passes fails test/onnx-node/node-tests.test.ts: the list only shrinks.',
      `# ${failed.length} of ${selected.length} selected tests (backends: ${BACKENDS.join(', ')}).`,
    ];
    // Which missing ops block most tests (a test may miss several): what to add first.
    const missing = new Map<string, number>();
    for (const f of failed) {
      const m = /unsupported ONNX op\(s\): (.*)$/.exec(f.reason);
      if (!m) continue;
      for (const op of new Set([...m[1].matchAll(/([A-Za-z0-9_]+) node #/g)].map((x) => x[1]))) missing.set(op, (missing.get(op) ?? 0) + 1);
    }
    const missingTop = [...missing].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([op, n]) => `${op} ${n}`);
    if (missingTop.length > 0) lines.push(`# Tests blocked per missing op: ${missingTop.join(', ')}.`);
    for (const cause of order) {
      const fs = causes.get(cause)!.sort((a, b) => a.t.name.localeCompare(b.t.name));
      lines.push('', `# --- ${cause}: ${fs.length} ---`);
      for (const f of fs) lines.push(`${f.t.name}  # ${f.reason}`);
    }
    writeFileSync(SKIP_FILE, `${lines.join('\n')}\n`);
    // eslint-disable-next-line no-console
    console.log(`ONNX node tests: wrote ${SKIP_FILE}: ${failed.length} of ${selected.length} selected tests fail (${order.map((c) => `${c} ${causes.get(c)!.length}`).join(', ')}); tests blocked per missing op: ${missingTop.join(', ')}`);
  }, 1_800_000);
} else {
  const run = selected.filter((t) => !skip.has(t.name));
  const skipped = selected.filter((t) => skip.has(t.name));
  reportUnavailable('ONNX node tests');
  // eslint-disable-next-line no-console
  console.log(
    `ONNX node tests: ${selected.length} of ${total} tests use listed ops only; running ${run.length}, SKIPPING ${skipped.length} listed in test/onnx-node/skip.txt` +
      ` (backends: ${BACKENDS.join(', ')}; neonn ops outside LISTED_OPS, whose tests are not selected: ${SUPPORTED_OPS.filter((o) => !LISTED.has(o)).join(', ') || 'none'})`,
  );

  const groups = new Map<string, NodeTest[]>();
  for (const t of selected) groups.set(t.group, [...(groups.get(t.group) ?? []), t]);
  describe('ONNX node tests (libonnx-testdata)', () => {
    for (const [group, tests] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
      describe(group, () => {
        for (const t of tests) {
          const reason = skip.get(t.name);
          if (reason !== undefined) test.skip(`${t.name}: SKIPPED (skip.txt): ${reason}`, () => undefined);
          else {
            test(t.name, async () => {
              try {
                await runNodeTest(t);
              } catch (e) {
                const err = e instanceof Error ? e : new Error(String(e));
                err.message += `\n(${t.name} is not in test/onnx-node/skip.txt, so it must pass: fix it, or list it there with a reason)`;
                throw err;
              }
            });
          }
        }
      });
    }
  });

  describe('the harness', () => {
    const DT = onnx.TensorProto.DataType;
    const enc = (t: onnx.ITensorProto): Uint8Array => onnx.TensorProto.encode(onnx.TensorProto.create(t)).finish();
    const f32 = (v: number[], shape = [v.length]): Decoded => ({ name: 'y', elemType: DT.FLOAT, dtype: 'float32', data: Float32Array.from(v), shape });

    test('decodes raw_data and the typed fields of every dtype it feeds', () => {
      const raw = new Uint8Array(new Float32Array([1.5, -2]).buffer);
      expect(decodeTensor(enc({ name: 'a', dims: [2], dataType: DT.FLOAT, rawData: raw }))).toMatchObject({ name: 'a', dtype: 'float32', data: Float32Array.from([1.5, -2]), shape: [2] });
      expect(decodeTensor(enc({ dims: [1, 2], dataType: DT.DOUBLE, doubleData: [0.25, 3] })).data).toEqual(Float32Array.from([0.25, 3]));
      expect(decodeTensor(enc({ dims: [2], dataType: DT.INT64, int64Data: [-3, 2 ** 40] })).data).toEqual(BigInt64Array.from([-3n, 2n ** 40n]));
      expect(decodeTensor(enc({ dims: [3], dataType: DT.BOOL, int32Data: [1, 0, 1] }))).toMatchObject({ dtype: 'bool', data: Uint8Array.from([1, 0, 1]) });
      expect(decodeTensor(enc({ dims: [2], dataType: DT.INT8, int32Data: [-128, 127] })).data).toEqual(Int8Array.from([-128, 127]));
      expect(decodeTensor(enc({ dims: [1], dataType: DT.FLOAT16, int32Data: [0x3c00] })).data).toEqual(Uint16Array.from([0x3c00]));
      expect(decodeTensor(enc({ dims: [0, 3], dataType: DT.FLOAT })).shape).toEqual([0, 3]);
      // The types neonn holds widened, as their own arrays.
      expect(decodeTensor(enc({ dims: [2], dataType: DT.STRING, stringData: [new Uint8Array([65]), new Uint8Array([0x31, 0x2e, 0x35])] }))).toMatchObject({ dtype: 'string', data: ['A', '1.5'] });
      expect(decodeTensor(enc({ dims: [2], dataType: DT.INT16, int32Data: [-32768, 7] })).data).toEqual(Int16Array.from([-32768, 7]));
      expect(decodeTensor(enc({ dims: [1], dataType: DT.UINT16, rawData: new Uint8Array([0xff, 0xff]) })).data).toEqual(Uint16Array.from([65535]));
      expect(decodeTensor(enc({ dims: [2], dataType: DT.UINT32, uint64Data: [4294967295, 3] })).data).toEqual(Uint32Array.from([4294967295, 3]));
      expect(decodeTensor(enc({ dims: [1], dataType: DT.UINT64, rawData: new Uint8Array(8).fill(0xff) })).data).toEqual(BigUint64Array.from([2n ** 64n - 1n]));
      expect(decodeTensor(enc({ dims: [1], dataType: DT.BFLOAT16, int32Data: [0x3f80] }))).toMatchObject({ dtype: 'bfloat16', data: Uint16Array.from([0x3f80]) });
      expect(() => decodeTensor(enc({ dims: [1], dataType: DT.COMPLEX64, floatData: [1, 2] }))).toThrow(/dtype unsupported: COMPLEX64/);
    });

    test('compares floats within tolerance of the largest magnitude, NaN with NaN, infinities exactly', () => {
      expect(mismatch('y', f32([1000, 1]), { data: Float32Array.from([1000.5, 1.5]), shape: [2] })).toBeUndefined();
      expect(mismatch('y', f32([1, 1]), { data: Float32Array.from([1, 1.01]), shape: [2] })).toMatch(/1 of 2 values outside .* at \[1\]/);
      expect(mismatch('y', f32([NaN, Infinity]), { data: Float32Array.from([NaN, Infinity]), shape: [2] })).toBeUndefined();
      expect(mismatch('y', f32([NaN]), { data: Float32Array.from([0]), shape: [1] })).toBeDefined();
      expect(mismatch('y', f32([-Infinity, 1]), { data: Float32Array.from([-3e38, 1]), shape: [2] })).toBeDefined();
    });

    test('compares integers and bools exactly, and dtypes and shapes', () => {
      const i64: Decoded = { name: 'y', elemType: DT.INT64, dtype: 'int64', data: BigInt64Array.from([5n, 2n ** 40n]), shape: [2] };
      expect(mismatch('y', i64, { dtype: 'int64', data: BigInt64Array.from([5n, 2n ** 40n]), shape: [2] })).toBeUndefined();
      expect(mismatch('y', i64, { dtype: 'int64', data: BigInt64Array.from([5n, 2n ** 40n + 1n]), shape: [2] })).toMatch(/1 of 2 values differ/);
      expect(mismatch('y', i64, { dtype: 'int32', data: Int32Array.from([5, 0]), shape: [2] })).toMatch(/dtype int32, expected int64/);
      expect(mismatch('y', f32([1, 2]), { data: Float32Array.from([1, 2]), shape: [1, 2] })).toMatch(/shape \[1,2\], expected \[2\]/);
      const b: Decoded = { name: 'y', elemType: DT.BOOL, dtype: 'bool', data: Uint8Array.from([1, 0]), shape: [2] };
      expect(mismatch('y', b, { dtype: 'bool', data: Uint8Array.from([1, 1]), shape: [2] })).toBeDefined();
    });
  });

  describe('skip.txt', () => {
    test('names selected tests only', () => {
      const names = new Set(selected.map((t) => t.name));
      const stray = [...skip.keys()].filter((n) => !names.has(n));
      if (stray.length > 0) throw new Error(stray.map((n) => `remove ${n} from skip.txt: it is not a selected test (no such directory, or an op outside LISTED_OPS)`).join('\n'));
    });

    test('lists only tests that still fail (the list only shrinks)', async () => {
      const passing: string[] = [];
      for (const t of skipped) {
        try {
          await runNodeTest(t);
          passing.push(t.name);
        } catch {
          // still failing: stays skipped
        }
      }
      if (passing.length > 0) throw new Error(passing.map((n) => `remove ${n} from skip.txt: it passes now`).join('\n'));
    }, 600_000);
  });
}
