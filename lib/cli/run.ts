/**
 * `neonn run model.onnx --image photo.jpg | --input x.npy`: one inference,
 * then each output's shape and a summary (top-k for a classifier's output).
 */
import { writeFileSync } from 'fs';
import * as path from 'path';
import { CommandSpec, Parsed, UsageError, intValue, numberList, numberValue, sizeValue } from './args';
import { readTensorFile } from './npy';
import type * as NN from '../index';

/** The help lines of the image flags. */
export const IMAGE_FLAGS_HELP = `    --size HxW      input height and width (default: the model's; required when they are symbolic)
    --fit <mode>    fill (default, stretch) | contain (letterbox) | cover (centre crop)
    --bgr           channel order BGR (default RGB); a 1-channel input is gray
    --scale <s>     multiply each 8-bit value first (default 1; 1/255 allowed)
    --mean a,b,c    subtract (after scaling), one value or one per channel (default 0)
    --std a,b,c     divide (last), one value or one per channel (default 1)`;

export const RUN: CommandSpec = {
  name: 'run',
  help: `usage: neonn run <model.onnx> (--image <photo> | --input <x.npy|x.f32>) [options]

  runs the model once and prints each output's shape, dtype, min/max/mean,
  and the top-k entries of a classifier-shaped output ([1, K] or [K])

  --image <photo>   a JPEG/PNG/WebP/... (needs the optional package sharp), made into the model's input:
${IMAGE_FLAGS_HELP}
  --input <file>    a raw tensor: .npy (float32/float64, C order) or headerless float32 in the input's shape
    --shape AxBxC.. the shape of a headerless file, for an input with symbolic dims (e.g. 1x3x48x192)
  --top <k>         how many entries of a classifier's output (default 5)
  --json            print one JSON object instead of text
  --draw <out.jpg>  a detector: draw its boxes on the photo (with --image; .jpg or .png), after NMS:
    --boxes <name>  the output holding the boxes, [N,4] or [1,N,4], in input pixels (or see --normalized)
    --scores <name> the output holding their scores, [N], [N,C] or with a leading 1; with C = 2 the
                    columns are (background, object) and column 1 is the score, otherwise the best class
    --box-format f  xyxy (default) | xywh | cxcywh
    --normalized    boxes are fractions of the input's width and height (SSD-style heads)
    --score-threshold <s>  drop boxes scoring below s (default 0.5)
    --iou <t>       NMS IoU threshold (default 0.45)`,
  flags: {
    '--image': 'value', '--input': 'value', '--size': 'value', '--fit': 'value', '--bgr': 'bool', '--scale': 'value',
    '--mean': 'value', '--std': 'value', '--top': 'value', '--json': 'bool', '--shape': 'value',
    '--draw': 'value', '--boxes': 'value', '--scores': 'value', '--box-format': 'value', '--normalized': 'bool',
    '--score-threshold': 'value', '--iou': 'value',
  },
  positionals: [1, 1],
  positionalName: 'model.onnx',
};

interface RunOptions extends ImageFlags {
  model: string;
  image?: string;
  input?: string;
  top: number;
  json: boolean;
  shape?: number[];
  draw?: DrawOptions;
}

/** `--draw` and its companions. */
interface DrawOptions {
  file: string;
  boxes: string;
  scores: string;
  format: 'xyxy' | 'xywh' | 'cxcywh';
  normalized: boolean;
  scoreThreshold: number;
  iou: number;
}

/** Checks `--draw` and its companion flags: all or none, and only with --image. */
function drawOptions(get: (f: string) => string | undefined, flags: Parsed['flags'], image: string | undefined): DrawOptions | undefined {
  const companions = ['--boxes', '--scores', '--box-format', '--normalized', '--score-threshold', '--iou'].filter((f) => flags.has(f));
  const file = get('--draw');
  if (file === undefined) {
    if (companions.length > 0) throw new UsageError(`neonn run: ${companions[0]} applies to --draw only`);
    return undefined;
  }
  if (image === undefined) throw new UsageError('neonn run: --draw needs --image (the photo to draw on)');
  if (!/\.(jpe?g|png)$/i.test(file)) throw new UsageError(`neonn run: --draw writes .jpg or .png, got ${JSON.stringify(file)}`);
  const boxes = get('--boxes');
  const scores = get('--scores');
  if (boxes === undefined || scores === undefined) throw new UsageError('neonn run: --draw needs --boxes <output> and --scores <output>');
  const format = get('--box-format') ?? 'xyxy';
  if (format !== 'xyxy' && format !== 'xywh' && format !== 'cxcywh') throw new UsageError(`neonn run: --box-format must be xyxy, xywh or cxcywh, got ${JSON.stringify(format)}`);
  const unit = (flag: string, dflt: number): number => {
    const v = get(flag);
    if (v === undefined) return dflt;
    const x = numberValue('run', flag, v);
    if (!(x >= 0 && x <= 1)) throw new UsageError(`neonn run: ${flag} must be from 0 to 1, got ${JSON.stringify(v)}`);
    return x;
  };
  return { file, boxes, scores, format, normalized: flags.has('--normalized'), scoreThreshold: unit('--score-threshold', 0.5), iou: unit('--iou', 0.45) };
}

/** Checks every flag's value before any work. */
function options({ flags, positionals }: Parsed): RunOptions {
  const get = (f: string): string | undefined => flags.get(f) as string | undefined;
  const image = get('--image'), input = get('--input');
  if ((image === undefined) === (input === undefined)) throw new UsageError('neonn run: give one of --image <photo> or --input <file>');
  const imageOnly = ['--size', '--fit', '--bgr', '--scale', '--mean', '--std'].filter((f) => flags.has(f));
  if (input !== undefined && imageOnly.length > 0) throw new UsageError(`neonn run: ${imageOnly[0]} applies to --image only`);
  if (image !== undefined && flags.has('--shape')) throw new UsageError('neonn run: --shape applies to --input only');
  const v = (f: string): string | undefined => get(f);
  return {
    model: positionals[0],
    image,
    input,
    ...imageFlags('run', flags),
    top: v('--top') === undefined ? 5 : intValue('run', '--top', v('--top')!),
    json: flags.has('--json'),
    shape: v('--shape') === undefined ? undefined : v('--shape')!.split(/[xX×]/).map((d) => intValue('run', '--shape', d)),
    draw: drawOptions(get, flags, image),
  };
}

/** What one output looks like in the report. */
interface OutputSummary {
  name: string;
  shape: number[];
  dtype: string;
  min: number;
  max: number;
  mean: number;
  /** For a classifier-shaped output: the top entries; `p` when the values are not probabilities already. */
  top?: { index: number; value: number; p?: number }[];
}

function summarize(nn: typeof NN, name: string, t: NN.Tensor | NN.TypedTensor, top: number): OutputSummary {
  const data = t.data as ArrayLike<number | bigint>;
  let min = Infinity, max = -Infinity, sum = 0;
  const values = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const x = Number(data[i]);
    values[i] = x;
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
  }
  const s: OutputSummary = { name, shape: [...t.shape], dtype: t.dtype, min, max, mean: data.length ? sum / data.length : NaN };
  // Classifier-shaped: [K] or [1, K].
  const k0 = t.shape.length === 1 ? t.shape[0] : t.shape.length === 2 && t.shape[0] === 1 ? t.shape[1] : 0;
  if (k0 >= 2 && !values.some((x) => x !== x)) {
    const k = Math.min(top, k0);
    const probabilities = min >= 0 && Math.abs(sum - 1) < 1e-3;
    const p = probabilities ? undefined : nn.vision.softmax(values).data;
    const best = nn.vision.topK(values, k);
    s.top = Array.from(best.indices, (index, j) => ({ index, value: best.values.data[j], ...(p ? { p: p[index] } : {}) }));
  }
  return s;
}

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3 ? x.toExponential(3) : x.toPrecision(4));

/** `neonn run`: returns the exit code. */
export async function run(parsed: Parsed): Promise<number> {
  const o = options(parsed);
  // Loaded here, not at the top: `neonn --help` and usage errors must not need the addon.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nn = require('../index') as typeof NN;
  const model = await nn.loadOnnx(o.model);
  try {
    if (model.inputNames.length !== 1) {
      throw new UsageError(`neonn run: ${path.basename(o.model)} has ${model.inputNames.length} inputs (${model.inputNames.join(', ')}); run feeds one`);
    }
    if (model.inputDtypes[0] !== 'float32') throw new UsageError(`neonn run: input "${model.inputNames[0]}" is ${model.inputDtypes[0]}; run feeds float32 only`);
    let x: NN.Tensor;
    let source: string;
    let transform: NN.ImageTransform | undefined;
    if (o.image !== undefined) {
      const img = await imageInput(nn, 'run', model, o.image, o);
      x = img.tensor;
      transform = img.transform;
      source = img.source;
    } else {
      x = rawInput(nn, 'run', model, o.input!, o.shape);
      source = o.input!;
    }
    const t0 = process.hrtime.bigint();
    const out = await model.run({ [model.inputNames[0]]: x });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const outputs = model.outputNames.map((n) => summarize(nn, n, out[n], o.top));
    const drawn = o.draw ? await draw(nn, o.image!, o.draw, out, model.outputNames, transform!, x.shape) : undefined;
    if (o.json) {
      console.log(JSON.stringify({ model: o.model, input: { name: model.inputNames[0], shape: [...x.shape], source }, ms, backend: nn.getBackend(), outputs, ...(drawn ? { detections: drawn } : {}) }, null, 2));
      return 0;
    }
    console.log(`${o.model}: input "${model.inputNames[0]}" [${x.shape.join(',')}] from ${source}; ran in ${ms.toFixed(1)} ms (backend ${nn.getBackend()})`);
    const width = Math.max(...outputs.map((s) => s.name.length));
    for (const s of outputs) {
      console.log(`${s.name.padEnd(width)}  [${s.shape.join(',')}] ${s.dtype}  min ${fmt(s.min)}  max ${fmt(s.max)}  mean ${fmt(s.mean)}`);
      if (s.top) {
        const entries = s.top.map((e) => `#${e.index} ${fmt(e.value)}${e.p !== undefined ? ` (p ${fmt(e.p)})` : ''}`);
        console.log(`${''.padEnd(width)}  top ${s.top.length}: ${entries.join(', ')}`);
      }
    }
    if (drawn) console.log(`${drawn.length} box(es) after NMS drawn on ${o.draw!.file}`);
    return 0;
  } finally {
    model.dispose();
  }
}

/** The image flags (`--size --fit --bgr --scale --mean --std`), shared by run and quantize. */
export interface ImageFlags {
  size?: [number, number];
  fit: 'fill' | 'contain' | 'cover';
  bgr: boolean;
  scale?: number;
  mean?: number[];
  std?: number[];
}

/** Checks the image flags' values. */
export function imageFlags(cmd: string, flags: Parsed['flags']): ImageFlags {
  const v = (f: string): string | undefined => flags.get(f) as string | undefined;
  const fit = v('--fit') ?? 'fill';
  if (fit !== 'fill' && fit !== 'contain' && fit !== 'cover') throw new UsageError(`neonn ${cmd}: --fit must be fill, contain or cover, got ${JSON.stringify(fit)}`);
  return {
    size: v('--size') === undefined ? undefined : sizeValue(cmd, '--size', v('--size')!),
    fit,
    bgr: flags.has('--bgr'),
    scale: v('--scale') === undefined ? undefined : numberValue(cmd, '--scale', v('--scale')!),
    mean: v('--mean') === undefined ? undefined : numberList(cmd, '--mean', v('--mean')!, 3),
    std: v('--std') === undefined ? undefined : numberList(cmd, '--std', v('--std')!, 3),
  };
}

/** What imageInput and rawInput need of the model. */
interface ModelInputs {
  readonly inputNames: readonly string[];
  readonly inputDims: readonly (readonly (number | string)[])[];
}

/** A photo decoded and made into the model's one 4-D image input, as `--image` does. */
export async function imageInput(nn: typeof NN, cmd: string, model: ModelInputs, file: string, o: ImageFlags): Promise<{ tensor: NN.Tensor; transform: NN.ImageTransform; source: string }> {
  const dims = model.inputDims[0];
  const name = model.inputNames[0];
  if (dims.length !== 4) throw new UsageError(`neonn ${cmd}: input "${name}" has rank ${dims.length}; --image needs a 4-D image input (use --input)`);
  const isC = (d: number | string): boolean => d === 1 || d === 3;
  const layout = isC(dims[1]) ? 'nchw' : isC(dims[3]) ? 'nhwc' : undefined;
  if (layout === undefined) throw new UsageError(`neonn ${cmd}: input "${name}" [${dims.join(',')}] has no 1- or 3-channel axis; use --input`);
  const [hd, wd, c] = layout === 'nchw' ? [dims[2], dims[3], dims[1]] : [dims[1], dims[2], dims[3]];
  const size = o.size ?? (typeof hd === 'number' && hd > 0 && typeof wd === 'number' && wd > 0 ? [hd, wd] as [number, number] : undefined);
  if (size === undefined) throw new UsageError(`neonn ${cmd}: input "${name}" [${dims.join(',')}] has a symbolic height or width; give --size HxW`);
  const channels = c === 1 ? 'gray' : o.bgr ? 'bgr' : 'rgb';
  for (const [flag, v] of [['--mean', o.mean], ['--std', o.std]] as const) {
    if (c === 1 && v !== undefined && v.length > 1) throw new UsageError(`neonn ${cmd}: ${flag} takes one value for a 1-channel input`);
  }
  const perChannel = (v: number[] | undefined): number | number[] | undefined => (v && (c === 1 || v.length === 1) ? v[0] : v);
  const img = await nn.image.load(file, { size, fit: o.fit, channels, layout, scale: o.scale, mean: perChannel(o.mean), std: perChannel(o.std) });
  return { tensor: img.tensor, transform: img.transform, source: `${file} (${img.transform.width}x${img.transform.height}, ${o.fit}, ${channels})` };
}

/** A raw tensor file (.npy, or headerless float32 in the input's declared shape or `shape`) as the model's one input. */
export function rawInput(nn: typeof NN, cmd: string, model: ModelInputs, file: string, given: number[] | undefined): NN.Tensor {
  const dims = model.inputDims[0];
  const name = model.inputNames[0];
  const raw = readTensorFile(file);
  if (raw.shape !== undefined && given !== undefined) throw new UsageError(`neonn ${cmd}: ${file} is a .npy, which gives its own shape; leave out --shape`);
  let shape = raw.shape ?? given;
  if (shape === undefined) {
    const known = dims.map((d, i) => (typeof d === 'number' && d > 0 ? d : i === 0 ? 1 : -1));
    if (known.includes(-1)) throw new UsageError(`neonn ${cmd}: input "${name}" [${dims.join(',')}] has symbolic dims; give --shape (or use a .npy)`);
    shape = known;
  }
  const need = shape.reduce((a, d) => a * d, 1);
  if (need !== raw.data.length) throw new UsageError(`neonn ${cmd}: ${file} holds ${raw.data.length} floats; input "${name}" [${shape.join(',')}] needs ${need}`);
  return nn.tensor(raw.data, shape);
}

/** A detection as `--draw` reports it: in the photo's pixels. */
interface Drawn {
  box: [number, number, number, number];
  score: number;
  classId: number;
}

/** NMS over the named outputs, boxes mapped back to the photo, drawn and written: `--draw`. */
async function draw(nn: typeof NN, photo: string, d: DrawOptions, out: Record<string, NN.Tensor | NN.TypedTensor>, names: readonly string[], transform: NN.ImageTransform, inputShape: readonly number[]): Promise<Drawn[]> {
  const pick = (flag: string, name: string): NN.Tensor => {
    const t = out[name];
    if (t === undefined) throw new UsageError(`neonn run: ${flag} ${JSON.stringify(name)} is not an output (outputs: ${names.join(', ')})`);
    if (t.dtype !== 'float32') throw new UsageError(`neonn run: ${flag} ${JSON.stringify(name)} is ${t.dtype}, not float32`);
    return t as NN.Tensor;
  };
  const boxes = pick('--boxes', d.boxes);
  const scores = pick('--scores', d.scores);
  const bs = boxes.shape.filter((dim, i) => !(i === 0 && dim === 1 && boxes.shape.length === 3));
  if (bs.length !== 2 || bs[1] !== 4) throw new UsageError(`neonn run: --boxes ${JSON.stringify(d.boxes)} is [${boxes.shape.join(',')}], not [N,4] or [1,N,4]`);
  const n = bs[0];
  // A leading batch of 1 goes: [1,N,C] -> [N,C], [1,N] -> [N].
  let ss = [...scores.shape];
  if ((ss.length === 3 && ss[0] === 1) || (ss.length === 2 && ss[0] === 1 && ss[1] === n && n !== 1)) ss = ss.slice(1);
  const classes = ss.length === 1 ? 1 : ss[1];
  if (ss[0] !== n || ss.length > 2) throw new UsageError(`neonn run: --scores ${JSON.stringify(d.scores)} is [${scores.shape.join(',')}]; with ${n} boxes it must be [N], [N,C] or have a leading 1`);
  // (background, object) pairs: the object column; otherwise every class.
  let sc: NN.Tensor = scores;
  let classOffset = 0;
  if (classes === 2) {
    const col = new Float32Array(n);
    for (let i = 0; i < n; i++) col[i] = scores.data[i * 2 + 1];
    sc = nn.tensor(col, [n]);
    classOffset = 1;
  }
  const kept = nn.vision.nms(nn.tensor(boxes.data, [n, 4]), classes === 2 ? sc : nn.tensor(scores.data, classes === 1 ? [n] : [n, classes]), {
    iouThreshold: d.iou,
    scoreThreshold: d.scoreThreshold,
    format: d.format,
  });
  const [h, w] = inputShape.length === 4 && (inputShape[1] === 1 || inputShape[1] === 3) ? [inputShape[2], inputShape[3]] : [inputShape[1], inputShape[2]];
  const detections: Drawn[] = kept.map((k) => {
    const box = d.normalized ? ([k.box[0] * w, k.box[1] * h, k.box[2] * w, k.box[3] * h] as [number, number, number, number]) : k.box;
    return { box: transform.boxToOriginal(box), score: k.score, classId: k.classId + classOffset };
  });
  const bytes = await nn.vision.drawBoxes(
    photo,
    detections.map((det) => ({ box: det.box, label: `${classes > 2 ? `${det.classId} ` : ''}${det.score.toFixed(2)}` })),
    { format: /\.png$/i.test(d.file) ? 'png' : 'jpeg' },
  );
  writeFileSync(d.file, bytes);
  return detections;
}
