/**
 * Finds the faces in a photo with Ultra-Light-Fast-Generic-Face-Detector
 * (RFB-320, 240×320 input) and prints one box per face, in the photo's pixels;
 * with a third argument, writes the photo with the boxes drawn (PNG or JPEG).
 *
 *   node examples/dist/faces.js <model.onnx> <photo.jpg> [annotated.jpg]
 *
 * The model's outputs: `scores` [1, 4420, 2] (background, face; softmaxed in
 * the graph) and `boxes` [1, 4420, 4], xyxy in [0, 1] of the input — the
 * graph itself decodes its 4420 SSD priors (centre variance 0.1, size
 * variance 0.2; `nn.vision.ssdPriors` makes the same priors, for heads that
 * leave the decoding to you: `nn.vision.decodePriors`).
 */
import { writeFileSync } from 'fs';
import * as nn from 'neonn';

/** One face, in the photo's pixels. */
export interface Face {
  score: number;
  box: [number, number, number, number];
}

/** ULFD's own post-processing thresholds. */
export const SCORE_THRESHOLD = 0.7;
export const IOU_THRESHOLD = 0.3;

/** The priors the RFB-320 graph decodes its regression with. */
export function ulfdPriors(): nn.Tensor {
  return nn.vision.ssdPriors({
    inputSize: [240, 320],
    strides: [8, 16, 32, 64],
    minSizes: [[10, 16, 24], [32, 48], [64, 96], [128, 192, 256]],
    clip: true,
    centers: 'cells',
  });
}

/** The model's outputs to faces: the face column of the scores, NMS, back to the photo. */
export function facesFromOutputs(scores: nn.TensorLike, boxes: nn.TensorLike, transform: nn.ImageTransform): Face[] {
  const n = boxes.data.length / 4;
  const face = new Float32Array(n);
  for (let i = 0; i < n; i++) face[i] = scores.data[2 * i + 1];
  const kept = nn.vision.nms(boxes, face, { iouThreshold: IOU_THRESHOLD, scoreThreshold: SCORE_THRESHOLD });
  return kept.map((d) => ({ score: d.score, box: transform.boxToOriginal(d.box, { normalized: true }) }));
}

/** The photo as the model wants it: RGB, 240×320 stretched, (p - 127) / 128. */
export function loadPhoto(photo: string | Uint8Array): Promise<nn.ImageInput> {
  return nn.image.load(photo, { size: [240, 320], mean: 127, std: 128 });
}

/** Runs the detector on one photo. */
export async function findFaces(model: nn.OnnxModel, photo: string | Uint8Array): Promise<Face[]> {
  const { tensor, transform } = await loadPhoto(photo);
  const out = await model.run({ [model.inputNames[0]]: tensor });
  return facesFromOutputs(out.scores, out.boxes, transform);
}

async function main(args: string[]): Promise<void> {
  const [modelPath, photo, annotated] = args;
  if (modelPath === undefined || photo === undefined) {
    console.error('usage: node examples/dist/faces.js <ulfd_rfb320 model.onnx> <photo.jpg> [annotated.jpg]');
    process.exitCode = 2;
    return;
  }
  const model = await nn.loadOnnx(modelPath);
  const faces = await findFaces(model, photo);
  console.log(`${faces.length} face(s) in ${photo}`);
  for (const f of faces) console.log(`  score ${f.score.toFixed(3)}  box [${f.box.map((v) => v.toFixed(1)).join(', ')}]`);
  if (annotated !== undefined) {
    const format = /\.png$/i.test(annotated) ? 'png' : 'jpeg';
    const image = await nn.vision.drawBoxes(photo, faces.map((f) => ({ box: f.box, label: f.score.toFixed(2) })), { format });
    writeFileSync(annotated, image);
    console.log(`wrote ${annotated}`);
  }
  model.dispose();
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: Error) => {
    console.error(err.message);
    process.exitCode = 1;
  });
}
