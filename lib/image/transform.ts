/**
 * The geometry between a photo and the model input made from it: the photo
 * is scaled by (sx, sy) and shifted by (dx, dy) — positive for letterbox
 * padding, negative for a centre crop. Model coordinates go back to the photo
 * by the inverse; coordinates are continuous (a pixel spans [i, i + 1)).
 */
import { rangeError, typeError } from '../errors';

/** Options of {@link ImageTransform.boxesToOriginal}. */
export interface BoxMapOptions {
  /** Boxes are in [0, 1] of the model input (as ULFD and SSD heads give them) rather than in its pixels. */
  normalized?: boolean;
  /** Clip the result to the photo; default true. */
  clip?: boolean;
}

/** Maps points and xyxy boxes between model input and original photo. */
export class ImageTransform {
  /**
   * @param width - the photo's width in pixels
   * @param height - the photo's height
   * @param inputWidth - the model input's width
   * @param inputHeight - the model input's height
   * @param sx - horizontal scale, photo to input
   * @param sy - vertical scale
   * @param dx - horizontal shift in input pixels (letterbox pad, or minus the crop)
   * @param dy - vertical shift
   */
  constructor(
    readonly width: number,
    readonly height: number,
    readonly inputWidth: number,
    readonly inputHeight: number,
    readonly sx: number,
    readonly sy: number,
    readonly dx: number,
    readonly dy: number,
  ) {
    Object.freeze(this);
  }

  /** A point of the photo in model input pixels. */
  toModel(x: number, y: number): [number, number] {
    return [x * this.sx + this.dx, y * this.sy + this.dy];
  }

  /** A point of the model input (pixels) in the photo's pixels. */
  toOriginal(x: number, y: number): [number, number] {
    return [(x - this.dx) / this.sx, (y - this.dy) / this.sy];
  }

  /**
   * One xyxy box from the model input to the photo.
   * @example
   * for (const d of nn.vision.nms(boxes, scores)) console.log(transform.boxToOriginal(d.box, { normalized: true }));
   */
  boxToOriginal(box: ArrayLike<number>, options?: BoxMapOptions): [number, number, number, number] {
    if (box === null || typeof box !== 'object' || box.length !== 4) typeError('boxToOriginal', 'box', 'four numbers [x1, y1, x2, y2]', box);
    const out = this.boxesToOriginal(Float64Array.from(box), options);
    return [out[0], out[1], out[2], out[3]];
  }

  /**
   * Many xyxy boxes (4 numbers each) from the model input to the photo.
   * @returns a new array of the same type and length
   * @throws {RangeError} if the length is not a multiple of 4
   */
  boxesToOriginal<T extends Float32Array | Float64Array>(boxes: T, options?: BoxMapOptions): T {
    if (!(boxes instanceof Float32Array || boxes instanceof Float64Array)) typeError('boxesToOriginal', 'boxes', 'a Float32Array or Float64Array', boxes);
    if (boxes.length % 4 !== 0) rangeError('boxesToOriginal', `"boxes" has ${boxes.length} numbers, not a multiple of 4`);
    const normalized = options?.normalized === true;
    const clip = options?.clip !== false;
    const kx = normalized ? this.inputWidth : 1, ky = normalized ? this.inputHeight : 1;
    const out = new (boxes.constructor as new (n: number) => T)(boxes.length);
    for (let i = 0; i < boxes.length; i += 4) {
      for (let k = 0; k < 4; k += 2) {
        let x = (boxes[i + k] * kx - this.dx) / this.sx;
        let y = (boxes[i + k + 1] * ky - this.dy) / this.sy;
        if (clip) {
          x = Math.min(this.width, Math.max(0, x));
          y = Math.min(this.height, Math.max(0, y));
        }
        out[i + k] = x;
        out[i + k + 1] = y;
      }
    }
    return out;
  }
}
