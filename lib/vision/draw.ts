/**
 * `nn.vision.drawBoxes`: detections drawn on the photo (sharp, an SVG
 * overlay), for looking at results.
 */
import { NeonnError, rangeError, typeError } from '../errors';
import { loadSharp } from '../image/load';
import { checkOptions, optEnum } from '../validate';

/** A box to draw: `[x1, y1, x2, y2]` in the photo's pixels, or an object with an optional label. */
export type DrawBox = readonly [number, number, number, number] | { box: readonly number[]; label?: string };

/** Options of `drawBoxes`. */
export interface DrawBoxesOptions {
  /** Output format; default `'jpeg'`. */
  format?: 'jpeg' | 'png';
  /** Stroke colour (any SVG colour); default `'lime'`. */
  color?: string;
  /** Stroke width in pixels; default 3. */
  lineWidth?: number;
  /** Rotate as the photo's EXIF orientation says, as nn.image.load does; default true. */
  autoOrient?: boolean;
}

const xml = (s: string): string => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Draws boxes (and their labels) on a photo. Needs the optional package `sharp`.
 * @param photo - a file path or encoded bytes
 * @param boxes - xyxy boxes in the photo's pixels, e.g. `transform.boxToOriginal(d.box)` of each detection
 * @returns the encoded image
 * @throws {TypeError} for a malformed box or option
 * @throws {NeonnError} `ERR_NEONN_SHARP_MISSING` without sharp, `ERR_NEONN_IMAGE_DECODE` for an unreadable photo
 * @example
 * const jpeg = await nn.vision.drawBoxes('photo.jpg', faces.map((f) => ({ box: f.box, label: f.score.toFixed(2) })));
 * fs.writeFileSync('faces.jpg', jpeg);
 */
export async function drawBoxes(photo: string | Uint8Array, boxes: readonly DrawBox[], options?: DrawBoxesOptions): Promise<Buffer> {
  const op = 'drawBoxes';
  if (typeof photo !== 'string' && !(photo instanceof Uint8Array)) typeError(op, 'photo', 'a file path or a Uint8Array/Buffer', photo);
  if (!Array.isArray(boxes)) typeError(op, 'boxes', 'an array of boxes', boxes);
  const o = checkOptions(op, options, new Set(['format', 'color', 'lineWidth', 'autoOrient']));
  const format = optEnum(op, 'format', o.format, ['jpeg', 'png'] as const, 'jpeg');
  const color = o.color ?? 'lime';
  if (typeof color !== 'string') typeError(op, 'color', 'a string', color);
  const lineWidth = o.lineWidth ?? 3;
  if (typeof lineWidth !== 'number') typeError(op, 'lineWidth', 'a number', lineWidth);
  if (!(lineWidth > 0 && lineWidth <= 100)) rangeError(op, `"lineWidth" must be in (0, 100], got ${lineWidth}`);
  const items = boxes.map((b, i) => {
    const box = Array.isArray(b) ? b : (b as { box?: unknown }).box;
    const label = Array.isArray(b) ? undefined : (b as { label?: unknown }).label;
    if (!Array.isArray(box) || box.length !== 4 || !box.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      typeError(op, `boxes[${i}]`, '[x1, y1, x2, y2] (finite numbers) or { box, label }', b);
    }
    if (label !== undefined && typeof label !== 'string') typeError(op, `boxes[${i}].label`, 'a string', label);
    return { box: box as number[], label };
  });
  const sharp = loadSharp(op) as unknown as typeof import('sharp');
  try {
    let img = sharp(photo);
    if (o.autoOrient !== false) img = img.rotate();
    // Oriented pixels first: the overlay must match the size sharp composites onto.
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    const { width, height, channels } = info;
    const shapes = items.map(({ box: [x1, y1, x2, y2], label }) => {
      const rect = `<rect x="${x1}" y="${y1}" width="${Math.max(0, x2 - x1)}" height="${Math.max(0, y2 - y1)}" fill="none" stroke="${xml(color)}" stroke-width="${lineWidth}"/>`;
      const size = Math.max(10, Math.round(Math.min(width, height) / 40));
      const text = label === undefined ? '' : `<text x="${x1}" y="${Math.max(size, y1 - lineWidth)}" font-family="sans-serif" font-size="${size}" fill="${xml(color)}">${xml(label)}</text>`;
      return rect + text;
    });
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}</svg>`;
    const out = sharp(data, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } }).composite([{ input: Buffer.from(svg), top: 0, left: 0 }]);
    return await (format === 'png' ? out.png() : out.jpeg({ quality: 90 })).toBuffer();
  } catch (err) {
    const what = typeof photo === 'string' ? JSON.stringify(photo) : `a buffer of ${photo.length} bytes`;
    throw new NeonnError(`${op}: cannot draw on ${what}: ${(err as Error).message}`, 'ERR_NEONN_IMAGE_DECODE', op);
  }
}
