// examples/faces.ts on the shared photos and the shared ulfd_rfb320 model:
// its post-processing against onnxruntime's stored outputs, its priors against
// the ones in the graph, and the example itself run as a user runs it.
import { execFileSync, spawnSync } from 'child_process';
import { mkdtempSync, readFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import * as nn from 'neonn';
import { Face, facesFromOutputs, findFaces, loadPhoto, ulfdPriors } from '../../examples/faces';
import { decodeModel, tensorFromProto } from '../../lib/onnx/proto';

const ROOT = path.resolve(__dirname, '../..');
const MODELS = path.resolve(ROOT, '../shared/real-models');
const DIR = path.join(MODELS, 'ulfd_rfb320');
const IMAGES = path.join(MODELS, 'images');
const f32 = (file: string): Float32Array => {
  const b = readFileSync(path.join(DIR, file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};

/** Every box inside the photo, non-empty, face-sized. */
function expectInside(faces: Face[], width: number, height: number): void {
  for (const { box: [x1, y1, x2, y2] } of faces) {
    expect(x1).toBeGreaterThanOrEqual(0);
    expect(y1).toBeGreaterThanOrEqual(0);
    expect(x2).toBeLessThanOrEqual(width);
    expect(y2).toBeLessThanOrEqual(height);
    expect(x2 - x1).toBeGreaterThan(5);
    expect(y2 - y1).toBeGreaterThan(5);
  }
}

/** For each face of `want`, the face of `got` with the same box within `tol` pixels. */
function expectSameFaces(got: Face[], want: Face[], tol: number): void {
  expect(got.length).toBe(want.length);
  for (const w of want) {
    const match = got.find((g) => g.box.every((v, i) => Math.abs(v - w.box[i]) <= tol));
    expect(match).toBeDefined();
  }
}

let model: nn.OnnxModel;
beforeAll(async () => {
  model = await nn.loadOnnx(path.join(DIR, 'model.onnx'));
});
afterAll(() => model.dispose());

// faces1.jpg (720×478) is a group photo of 46 people on stairs: ULFD finds all 46 at its own thresholds.
const FACES1 = 46;

describe('examples/faces.ts', () => {
  const photo = { width: 720, height: 478 };
  const transform = nn.image.fromPixels(new Uint8Array(720 * 478 * 3), 720, 478, 3, { size: [240, 320] }).transform;

  test(`onnxruntime's stored outputs for faces1.jpg decode to ${FACES1} faces inside the photo`, () => {
    const faces = facesFromOutputs({ data: f32('output_0.f32'), shape: [1, 4420, 2] }, { data: f32('output_1.f32'), shape: [1, 4420, 4] }, transform);
    expect(faces.length).toBe(FACES1);
    expectInside(faces, photo.width, photo.height);
  });

  test('neonn on the stored input finds the same faces as onnxruntime, boxes within 0.5 px', async () => {
    const ort = facesFromOutputs({ data: f32('output_0.f32'), shape: [1, 4420, 2] }, { data: f32('output_1.f32'), shape: [1, 4420, 4] }, transform);
    const out = await model.run({ input: nn.tensor(f32('input_0.f32'), [1, 3, 240, 320]) });
    expectSameFaces(facesFromOutputs(out.scores, out.boxes, transform), ort, 0.5);
  });

  test('from the photo itself (sharp decode): the same faces within 3 px', async () => {
    const ort = facesFromOutputs({ data: f32('output_0.f32'), shape: [1, 4420, 2] }, { data: f32('output_1.f32'), shape: [1, 4420, 4] }, transform);
    const faces = await findFaces(model, path.join(IMAGES, 'faces1.jpg'));
    expectSameFaces(faces, ort, 3);
  });

  test('selfie.jpg (2048×1150, a crowd): at least 60 faces, all inside, the three large front faces among them', async () => {
    const faces = await findFaces(model, path.join(IMAGES, 'selfie.jpg'));
    expect(faces.length).toBeGreaterThanOrEqual(60);
    expectInside(faces, 2048, 1150);
    // the centres of the three faces in front (found by eye on the photo)
    for (const [x, y] of [[1190, 950], [1360, 830], [1500, 850]]) {
      expect(faces.some(({ box: [x1, y1, x2, y2] }) => x1 < x && x < x2 && y1 < y && y < y2 && x2 - x1 > 80)).toBe(true);
    }
  });

  test('ssdPriors makes exactly the priors the graph decodes with', () => {
    const nodes = decodeModel(readFileSync(path.join(DIR, 'model.onnx'))).graph!.node!;
    // boxes = concat(loc[:2] * 0.1 * sizes + centres, exp(loc[2:] * 0.2) * sizes), sizes and centres [1, 4420, 2] constants
    const consts = new Map(nodes.filter((n) => n.opType === 'Constant' && n.attribute![0].t!.dataType === 1 /* FLOAT */).map((n) => [n.output![0], tensorFromProto(n.attribute![0].t!).data]));
    const priorOf = (n: { input?: string[] | null }): Float32Array | undefined => n.input!.map((i) => consts.get(i)).find((c) => c?.length === 4420 * 2);
    const exp = nodes.find((n) => n.opType === 'Exp')!.output![0];
    const centres = priorOf(nodes.find((n) => n.opType === 'Add' && priorOf(n))!)!;
    const sizes = priorOf(nodes.find((n) => n.opType === 'Mul' && n.input!.includes(exp))!)!;
    const priors = ulfdPriors();
    expect(priors.shape).toEqual([4420, 4]);
    let worst = 0;
    for (let i = 0; i < 4420; i++) {
      for (let k = 0; k < 2; k++) {
        worst = Math.max(worst, Math.abs(priors.data[4 * i + k] - centres[2 * i + k]), Math.abs(priors.data[4 * i + 2 + k] - sizes[2 * i + k]));
      }
    }
    expect(worst).toBeLessThan(1e-6);
    // the other convention differs where a stride does not divide the input (240 / 64)
    const byStride = nn.vision.ssdPriors({ inputSize: [240, 320], strides: [8, 16, 32, 64], minSizes: [[10, 16, 24], [32, 48], [64, 96], [128, 192, 256]], clip: true });
    expect(byStride.data[4419 * 4 + 1]).toBeCloseTo(3.5 * 64 / 240, 6);
    expect(centres[4419 * 2 + 1]).toBeCloseTo(3.5 / 4, 6);
  });

  test('the example as a user runs it: compiled, printing the faces and writing an annotated photo', async () => {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'examples')], { cwd: ROOT });
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'neonn-faces-')), 'faces1.png');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'examples/dist/faces.js'), path.join(DIR, 'model.onnx'), path.join(IMAGES, 'faces1.jpg'), out], { encoding: 'utf8', cwd: ROOT });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`${FACES1} face(s) in ${path.join(IMAGES, 'faces1.jpg')}`);
    expect(lines.filter((l) => /^ {2}score 0\.\d{3} {2}box \[[\d.]+, [\d.]+, [\d.]+, [\d.]+\]$/.test(l))).toHaveLength(FACES1);
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 720, 478]);
    const usage = spawnSync(process.execPath, [path.join(ROOT, 'examples/dist/faces.js')], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^usage: /);
  });
});

test('loadPhoto makes the input the model was given, within 3 levels', async () => {
  const { tensor } = await loadPhoto(path.join(IMAGES, 'faces1.jpg'));
  const ref = f32('input_0.f32');
  let max = 0;
  for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(ref[i] - tensor.data[i]) * 128);
  expect(max).toBeLessThanOrEqual(3.01);
});
