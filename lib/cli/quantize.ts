/**
 * `neonn quantize model.onnx --calibrate dir --out model.int8.onnx`: nn.quantize
 * from the shell, calibrated on a directory of photos (decoded as
 * `neonn run --image` does) and/or raw tensors (`.npy`, `.f32`).
 */
import { readdirSync, statSync, writeFileSync } from 'fs';
import * as path from 'path';
import { CommandSpec, Parsed, UsageError, intValue, nameList, numberValue } from './args';
import { IMAGE_FLAGS_HELP, imageFlags, imageInput, rawInput } from './run';
import type * as NN from '../index';

export const QUANTIZE: CommandSpec = {
  name: 'quantize',
  help: `usage: neonn quantize <model.onnx> --calibrate <dir> --out <model.int8.onnx> [options]

  post-training static int8 quantization (nn.quantize): runs the float model over the
  calibration inputs, picks each activation's range, writes the quantized ONNX model
  (which neonn and onnxruntime both run) and prints each output's error against the float model

  --calibrate <dir>   calibration inputs: photos (.jpg .jpeg .png .webp .tif .tiff .bmp .gif, needs
                      the optional package sharp) made into the model's input as neonn run --image
                      does, and/or raw tensors (.npy, or headerless float32 .f32/.bin/.raw)
${IMAGE_FLAGS_HELP}
    --shape AxBxC..   the shape of headerless tensor files, for an input with symbolic dims
  --out <file>        where the quantized model goes
  --format <f>        qdq (default: QuantizeLinear/DequantizeLinear around float ops) | qoperator
                      (QLinearConv, QLinearMatMul, com.microsoft QLinearAdd/Mul/pools)
  --per-tensor        one scale per weight tensor (default: one per output channel)
  --asymmetric-weights  int8 weights with a zero point (default: symmetric, zero point 0)
  --activations <t>   uint8 (default) | int8
  --calibration <m>   minmax (default) | percentile
  --percentile <p>    with --calibration percentile: share of samples kept in range (default 99.999)
  --exclude a,b       node names or op types to leave in float
  --limit <n>         use at most n calibration files (in name order)
  --json              print the report as JSON`,
  flags: {
    '--calibrate': 'value', '--out': 'value', '--format': 'value', '--per-tensor': 'bool', '--asymmetric-weights': 'bool', '--activations': 'value',
    '--calibration': 'value', '--percentile': 'value', '--exclude': 'value', '--limit': 'value', '--json': 'bool',
    '--size': 'value', '--fit': 'value', '--bgr': 'bool', '--scale': 'value', '--mean': 'value', '--std': 'value', '--shape': 'value',
  },
  positionals: [1, 1],
  positionalName: 'model.onnx',
};

const IMAGE = /\.(jpe?g|png|webp|tiff?|bmp|gif)$/i;
const TENSOR = /\.(npy|f32|bin|raw)$/i;

function choice<T extends string>(flag: string, v: string | undefined, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`neonn quantize: ${flag} must be ${allowed.join(' or ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** `neonn quantize`: returns the exit code. */
export async function quantize(parsed: Parsed): Promise<number> {
  const { flags, positionals } = parsed;
  const get = (f: string): string | undefined => flags.get(f) as string | undefined;
  const dir = get('--calibrate');
  const out = get('--out');
  if (dir === undefined) throw new UsageError('neonn quantize: --calibrate <dir> is required (the calibration inputs)');
  if (out === undefined) throw new UsageError('neonn quantize: --out <file> is required (where the quantized model goes)');
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new UsageError(`neonn quantize: --calibrate: no such directory ${JSON.stringify(dir)}`);
  }
  if (!isDir) throw new UsageError(`neonn quantize: --calibrate ${JSON.stringify(dir)} is not a directory`);
  const image = imageFlags('quantize', flags);
  const shape = get('--shape') === undefined ? undefined : get('--shape')!.split(/[xX×]/).map((d) => intValue('quantize', '--shape', d));
  const calibration = choice('--calibration', get('--calibration'), ['minmax', 'percentile'] as const, 'minmax');
  const percentile = get('--percentile') === undefined ? undefined : numberValue('quantize', '--percentile', get('--percentile')!);
  if (percentile !== undefined && calibration !== 'percentile') throw new UsageError('neonn quantize: --percentile applies to --calibration percentile only');
  if (percentile !== undefined && !(percentile > 50 && percentile <= 100)) throw new UsageError(`neonn quantize: --percentile must be in (50, 100], got ${percentile}`);
  const options: NN.QuantizeOptions = {
    format: choice('--format', get('--format'), ['qdq', 'qoperator'] as const, 'qdq'),
    perChannel: !flags.has('--per-tensor'),
    symmetricWeights: !flags.has('--asymmetric-weights'),
    activations: choice('--activations', get('--activations'), ['uint8', 'int8'] as const, 'uint8'),
    calibration,
    ...(percentile !== undefined ? { percentile } : {}),
    ...(get('--exclude') !== undefined ? { exclude: nameList('quantize', '--exclude', get('--exclude')!) } : {}),
  };
  const limit = get('--limit') === undefined ? Infinity : intValue('quantize', '--limit', get('--limit')!);
  const files = readdirSync(dir).filter((f) => IMAGE.test(f) || TENSOR.test(f)).sort().slice(0, limit);
  if (files.length === 0) throw new UsageError(`neonn quantize: ${dir} holds no photo (.jpg .png .webp ...) and no tensor (.npy .f32 .bin .raw)`);
  const imageOnly = ['--size', '--fit', '--bgr', '--scale', '--mean', '--std'].filter((f) => flags.has(f));
  if (imageOnly.length > 0 && !files.some((f) => IMAGE.test(f))) throw new UsageError(`neonn quantize: ${imageOnly[0]} applies to photos, and ${dir} holds none`);

  // Loaded here, not at the top: `neonn --help` and usage errors must not need the addon.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nn = require('../index') as typeof NN;
  const model = await nn.loadOnnx(positionals[0]);
  const xs: NN.Tensor[] = [];
  try {
    if (model.inputNames.length !== 1) {
      throw new UsageError(`neonn quantize: ${path.basename(positionals[0])} has ${model.inputNames.length} inputs (${model.inputNames.join(', ')}); the CLI feeds one (use nn.quantize with feeds objects)`);
    }
    if (model.inputDtypes[0] !== 'float32') throw new UsageError(`neonn quantize: input "${model.inputNames[0]}" is ${model.inputDtypes[0]}; calibration feeds float32 only`);
    for (const f of files) {
      const file = path.join(dir, f);
      xs.push(IMAGE.test(f) ? (await imageInput(nn, 'quantize', model, file, image)).tensor : rawInput(nn, 'quantize', model, file, shape));
    }
  } finally {
    model.dispose();
  }
  const t0 = Date.now();
  const r = await nn.quantize(positionals[0], xs, options);
  writeFileSync(out, r.onnx);
  const seconds = (Date.now() - t0) / 1000;
  if (flags.has('--json')) {
    console.log(JSON.stringify({ model: positionals[0], out, bytes: r.onnx.length, calibration: files, options, seconds, quantizedOps: r.quantizedOps, foldedActivations: r.foldedActivations, outputs: r.outputs }, null, 2));
    return 0;
  }
  const ops = Object.entries(r.quantizedOps).map(([k, v]) => `${v} ${k}`).join(', ');
  console.log(`${out}: ${r.onnx.length} bytes, ${options.format}; quantized ${ops || 'nothing'} (${r.foldedActivations} Relu/Clip folded), calibrated on ${files.length} input(s) in ${seconds.toFixed(1)} s`);
  console.log('error against the float model over the calibration inputs (neonn):');
  for (const o of r.outputs) {
    const agree = o.argmaxAgreement ? `, argmax unchanged on ${o.argmaxAgreement.same}/${o.argmaxAgreement.total}` : '';
    console.log(`  ${o.name}: max |err| ${o.maxAbsError.toPrecision(3)}, mean |err| ${o.meanAbsError.toPrecision(3)} (max |float| ${o.maxAbsFloat.toPrecision(3)})${agree}`);
  }
  return 0;
}
