/**
 * One inference worker of the backyard-camera service (a piscina worker
 * thread): it loads the detector once, then turns each JPEG frame into
 * detections. neonn runs each op on one thread here (the pool has one worker
 * per core, so the cores are already busy with frames, not with one frame).
 */
import * as nn from 'neonn';
import { workerData } from 'worker_threads';
import { findFaces, type Face } from '../faces';

nn.setThreads(1);
const model: Promise<nn.OnnxModel> = nn.loadOnnx((workerData as { modelPath: string }).modelPath);

/** One frame: its JPEG bytes in, the faces (photo pixels) out. */
export default async function detect(frame: Uint8Array): Promise<Face[]> {
  return findFaces(await model, frame);
}
