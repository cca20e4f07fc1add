// The shared int8 models (../shared/real-models: mobilenetv2_int8 in the
// QOperator format, retinaface_qdq in the QDQ format) through nn.loadOnnx,
// against onnxruntime-node's stored outputs.
//
// mobilenetv2_int8's output is the DequantizeLinear of the last QLinearMatMul,
// so ORT's values sit on a grid of that node's scale: every element must be
// within one step of ORT's (our kernels fold the scales as ORT's do, so a
// difference is a rounding tie decided the other way upstream). retinaface's
// float ops between Q/DQ pairs are computed by other kernels in another order
// than ORT's (whose graph optimizer also fuses the Q/DQ pairs into integer
// ops), so an activation landing on the other side of a rounding boundary
// moves by one step there, and such flips can compound through later layers:
// see the tolerance stated at that test.
//
// A model that needs an op or a form neonn does not have yet
// (ERR_NEONN_ONNX_UNSUPPORTED at load or planning) is skipped with the reason
// printed; any other error fails.
import * as fs from 'fs';
import * as path from 'path';
import * as nn from '../../lib';
import { onnx } from '../../lib/onnx/proto';

const DIR = path.join(__dirname, '..', '..', '..', 'shared', 'real-models');
const ROOT = fs.existsSync(DIR) ? DIR : '/work/shared/real-models';

interface IoJson {
  inputs: { name: string; shape: number[]; file: string }[];
  outputs: { name: string; shape: number[]; file: string }[];
}

function readF32(file: string): Float32Array {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

interface Loaded {
  model?: nn.OnnxModel;
  io?: IoJson;
  feeds?: Record<string, nn.Tensor>;
  outs?: Record<string, nn.Tensor>;
  skip?: string;
}

/** Loads and runs a model once, at collection time, so an unsupported one can be skipped by name. */
function loadAndRun(name: string): Loaded {
  const dir = path.join(ROOT, name);
  if (!fs.existsSync(path.join(dir, 'model.onnx'))) return { skip: `${dir}/model.onnx is missing` };
  const io = JSON.parse(fs.readFileSync(path.join(dir, 'io.json'), 'utf8')) as IoJson;
  const feeds: Record<string, nn.Tensor> = {};
  try {
    const model = nn.loadOnnxSync(path.join(dir, 'model.onnx'));
    io.inputs.forEach((inp, k) => {
      feeds[model.inputNames[k]] = new nn.Tensor(readF32(path.join(dir, inp.file)), inp.shape);
    });
    const outs = model.runSync(feeds) as Record<string, nn.Tensor>;
    return { model, io, feeds, outs };
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_NEONN_ONNX_UNSUPPORTED') return { skip: (e as Error).message };
    throw e;
  }
}

function report(name: string, l: Loaded): void {
  if (l.skip) console.warn(`quant-models: ${name} SKIPPED — needs what neonn does not have yet:\n  ${l.skip}`);
}

/** The first float of a TensorProto (float_data or little-endian raw_data). */
function firstFloat(t: onnx.ITensorProto): number {
  if (t.floatData && t.floatData.length) return t.floatData[0];
  const raw = t.rawData;
  if (!raw || raw.byteLength < 4) throw new Error(`tensor ${t.name ?? ''} holds no float`);
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getFloat32(0, true);
}

/**
 * The scale of the DequantizeLinear that produces graph output `out`: an
 * initializer, or the `value` of a Constant node (exporters emit both).
 */
function outputScale(file: string, out: string): number {
  const m = onnx.ModelProto.decode(fs.readFileSync(file));
  const g = m.graph!;
  const node = g.node!.find((n) => n.opType === 'DequantizeLinear' && n.output![0] === out);
  if (!node) throw new Error(`no DequantizeLinear produces ${out}`);
  const name = node.input![1];
  const init = g.initializer!.find((t) => t.name === name);
  if (init) return firstFloat(init);
  const constant = g.node!.find((n) => n.opType === 'Constant' && n.output![0] === name);
  const value = constant?.attribute?.find((a) => a.name === 'value')?.t;
  if (value) return firstFloat(value);
  const valueFloat = constant?.attribute?.find((a) => a.name === 'value_float');
  if (valueFloat && typeof valueFloat.f === 'number') return valueFloat.f;
  throw new Error(`the scale of ${out} (${name}) is neither an initializer nor a Constant`);
}

/** Elements of `got` more than `tol` from `want`, and the largest difference. */
function compare(got: Float32Array, want: Float32Array, tol: number): { bad: number; maxDiff: number; first: number } {
  let bad = 0;
  let maxDiff = 0;
  let first = -1;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= tol)) {
      bad++;
      if (first < 0) first = i;
    }
    if (!(d <= maxDiff)) maxDiff = d;
  }
  return { bad, maxDiff, first };
}

function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

const mobilenet = loadAndRun('mobilenetv2_int8');
report('mobilenetv2_int8', mobilenet);

(mobilenet.skip ? describe.skip : describe)('mobilenetv2_int8 (QOperator: QLinearConv, QLinearAdd, QLinearGlobalAveragePool, QLinearMatMul)', () => {
  const dir = path.join(ROOT, 'mobilenetv2_int8');

  test('output [1,1000] within one quantization step of onnxruntime, same top-1 (249)', () => {
    const { model, io, outs } = mobilenet;
    const o = io!.outputs[0];
    const step = outputScale(path.join(dir, 'model.onnx'), o.name);
    const want = readF32(path.join(dir, o.file));
    const got = outs![model!.outputNames[0]];
    expect([...got.shape]).toEqual(o.shape);
    const r = compare(got.data as Float32Array, want, step * 1.0001);
    console.log(`mobilenetv2_int8: step ${step}, max |diff| ${r.maxDiff} (${(r.maxDiff / step).toFixed(2)} steps), ${r.bad} of ${want.length} beyond one step`);
    expect(r).toEqual({ bad: 0, maxDiff: r.maxDiff, first: -1 });
    expect(argmax(got.data)).toBe(argmax(want));
  });

  test('async run and a second sync run give the same bytes', async () => {
    const { model, feeds, outs } = mobilenet;
    const name = model!.outputNames[0];
    const again = model!.runSync(feeds!) as Record<string, nn.Tensor>;
    const viaAsync = (await model!.run(feeds!)) as Record<string, nn.Tensor>;
    expect(Array.from(again[name].data)).toEqual(Array.from(outs![name].data));
    expect(Array.from(viaAsync[name].data)).toEqual(Array.from(outs![name].data));
  });
});

const retina = loadAndRun('retinaface_qdq');
report('retinaface_qdq', retina);

(retina.skip ? describe.skip : describe)('retinaface_qdq (QDQ around float ops)', () => {
  const dir = path.join(ROOT, 'retinaface_qdq');

  test('boxes, scores, landmarks close to onnxruntime', () => {
    const { model, io, outs } = retina;
    io!.outputs.forEach((o, k) => {
      const step = outputScale(path.join(dir, 'model.onnx'), o.name);
      const want = readF32(path.join(dir, o.file));
      const got = outs![model!.outputNames[k]];
      expect([...got.shape]).toEqual(o.shape);
      const one = compare(got.data as Float32Array, want, step * 1.0001);
      const four = compare(got.data as Float32Array, want, 4 * step * 1.0001);
      console.log(`retinaface_qdq ${o.name}: step ${step}, max |diff| ${one.maxDiff} (${(one.maxDiff / step).toFixed(2)} steps), beyond 1 step: ${one.bad} of ${want.length}, beyond 4: ${four.bad}`);
      // Tolerance: at most 1% of the elements beyond one step, none beyond four.
      expect(one.bad).toBeLessThanOrEqual(want.length / 100);
      expect(four.bad).toBe(0);
    });
  });
});
