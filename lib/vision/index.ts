/**
 * `nn.vision`: what comes after a detector or classifier runs — box formats,
 * prior and grid decoding, non-maximum suppression, softmax and top-k
 * (checked here, computed by native kernels over a model's outputs), and
 * drawing the boxes on the photo (sharp).
 */
import { convertBoxes, iou } from './boxes';
import { drawBoxes } from './draw';
import { nms } from './nms';
import { decodeGrid, decodePriors, ssdPriors } from './priors';
import { softmax, topK } from './scores';

export type { BoxFormat } from './boxes';
export type { NmsOptions, Detection } from './nms';
export type { SsdPriorsOptions, DecodePriorsOptions, DecodeGridOptions } from './priors';
export type { TopK } from './scores';
export type { DrawBox, DrawBoxesOptions } from './draw';
export type { VisionInput } from './common';

/**
 * Post-processing of vision models' outputs.
 * @example
 * const { scores, boxes } = await model.run({ input: x });
 * const faces = nn.vision.nms(boxes, scores.data.filter((_, i) => i % 2 === 1), { iouThreshold: 0.3, scoreThreshold: 0.7 });
 */
export const vision = Object.freeze({ nms, convertBoxes, iou, ssdPriors, decodePriors, decodeGrid, softmax, topK, drawBoxes });
