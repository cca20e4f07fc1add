import { spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import * as path from 'path';
import { image, ImageTransform } from '../../lib/image';
import type { ImageOptions } from '../../lib/image';
import { NeonnError } from '../../lib/errors';
import * as jpeg from 'jpeg-js';

const { fromPixels, load } = image;
const IMAGES = '/work/shared/real-models/images';

/** A W×H RGB image, black, with a white rectangle [x1, x2) × [y1, y2). */
function rect(W: number, H: number, x1: number, y1: number, x2: number, y2: number): Uint8Array {
  const d = new Uint8Array(W * H * 3);
  for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) d.fill(255, (y * W + x) * 3, (y * W + x) * 3 + 3);
  return d;
}

/** Bounding box [x1, y1, x2, y2) of the values above 127 in channel 0 of an NCHW tensor. */
function bright(data: ArrayLike<number>, w: number, h: number): number[] {
  let x1 = w, y1 = h, x2 = 0, y2 = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (data[y * w + x] > 127) { x1 = Math.min(x1, x); y1 = Math.min(y1, y); x2 = Math.max(x2, x + 1); y2 = Math.max(y2, y + 1); }
  }
  return [x1, y1, x2, y2];
}

describe('fromPixels', () => {
  // 2×1 RGB: red, then (0, 100, 200)
  const px = Uint8Array.from([255, 0, 0, 0, 100, 200]);
  test('NCHW float32 by default, values as given', () => {
    const { tensor, transform } = fromPixels(px, 2, 1, 3);
    expect(tensor.shape).toEqual([1, 3, 1, 2]);
    expect(Array.from(tensor.data)).toEqual([255, 0, 0, 100, 0, 200]);
    expect(transform.toOriginal(1.5, 0.5)).toEqual([1.5, 0.5]);
  });
  test('bgr, nhwc, (p * scale - mean) / std per channel', () => {
    const { tensor } = fromPixels(px, 2, 1, 3, { channels: 'bgr', layout: 'nhwc', scale: 1 / 255, mean: [0.5, 0, 0], std: [0.5, 1, 2] });
    expect(tensor.shape).toEqual([1, 1, 2, 3]);
    expect(Array.from(tensor.data)).toEqual(Array.from(Float32Array.from([-1, 0, 0.5, (200 / 255 - 0.5) / 0.5, 100 / 255, 0])));
  });
  test('gray (BT.601 luma), RGBA input, gray input to rgb, uint8 output', () => {
    expect(Array.from(fromPixels(px, 2, 1, 3, { channels: 'gray' }).tensor.data)).toEqual([76, 82]);
    const rgba = Uint8Array.from([1, 2, 3, 99, 4, 5, 6, 99]);
    expect(Array.from(fromPixels(rgba, 2, 1, 4, { layout: 'nhwc' }).tensor.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const g = fromPixels(Uint8Array.from([7, 9]), 2, 1, 1, { dtype: 'uint8' });
    expect(g.tensor.dtype).toBe('uint8');
    expect(Array.from(g.tensor.data)).toEqual([7, 9, 7, 9, 7, 9]);
  });
  test('bilinear resize with half-pixel centres, rounded to 8 bits', () => {
    // 4×1 gray 0, 10, 20, 40 -> 2×1: samples at 0.5 and 2.5 -> 5 and 30
    expect(Array.from(fromPixels(Uint8Array.from([0, 10, 20, 40]), 4, 1, 1, { size: [1, 2], channels: 'gray' }).tensor.data)).toEqual([5, 30]);
    // upscale 2×1 -> 4×1: sources at -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1)
    expect(Array.from(fromPixels(Uint8Array.from([0, 100]), 2, 1, 1, { size: [1, 4], channels: 'gray' }).tensor.data)).toEqual([0, 25, 75, 100]);
  });

  test('letterbox (contain): the rectangle lands where the transform says, and maps back exactly', () => {
    const W = 200, H = 100;
    const { tensor, transform } = fromPixels(rect(W, H, 40, 20, 80, 60), W, H, 3, { size: [100, 100], fit: 'contain', pad: 114 });
    expect(transform).toMatchObject({ width: 200, height: 100, inputWidth: 100, inputHeight: 100, sx: 0.5, sy: 0.5, dx: 0, dy: 25 });
    const model = bright(tensor.data, 100, 100);
    expect(model).toEqual([20, 35, 40, 55]);
    expect(transform.boxToOriginal(model)).toEqual([40, 20, 80, 60]);
    // normalized boxes (SSD heads) map the same
    expect(transform.boxToOriginal([0.2, 0.35, 0.4, 0.55], { normalized: true }).map((v) => +v.toFixed(9))).toEqual([40, 20, 80, 60]);
    // the pad rows hold the pad value, the image rows the image
    expect(tensor.data[0]).toBe(114);
    expect(tensor.data[24 * 100 + 50]).toBe(114);
    expect(tensor.data[25 * 100 + 50]).toBe(0);
    expect(tensor.data[75 * 100 + 50]).toBe(114);
    // a box reaching into the padding is clipped to the photo unless told otherwise
    expect(transform.boxToOriginal([-10, 0, 110, 100])).toEqual([0, 0, 200, 100]);
    expect(transform.boxToOriginal([0, 0, 100, 100], { clip: false })).toEqual([0, -50, 200, 150]);
  });
  test('letterbox round trip of points, with an odd scale', () => {
    const { transform } = fromPixels(new Uint8Array(640 * 427 * 3), 640, 427, 3, { size: [320, 320], fit: 'contain' });
    expect(transform.sx).toBe(320 / 640);
    expect(transform.sy).toBe(Math.round(427 / 2) / 427);
    expect(transform.dy).toBe(Math.floor((320 - 214) / 2));
    for (const [x, y] of [[0, 0], [640, 427], [123.25, 300.5]]) {
      const [mx, my] = transform.toModel(x, y);
      const [bx, by] = transform.toOriginal(mx, my);
      expect(bx).toBeCloseTo(x, 9);
      expect(by).toBeCloseTo(y, 9);
    }
  });
  test('cover crops the centre', () => {
    const W = 200, H = 100;
    const { tensor, transform } = fromPixels(rect(W, H, 40, 20, 80, 60), W, H, 3, { size: [100, 100], fit: 'cover' });
    expect(transform).toMatchObject({ sx: 1, sy: 1, dx: -50, dy: 0 });
    expect(bright(tensor.data, 100, 100)).toEqual([0, 20, 30, 60]);
    expect(transform.boxToOriginal([0, 20, 30, 60])).toEqual([50, 20, 80, 60]);
  });
  test('fill stretches each axis', () => {
    const { tensor, transform } = fromPixels(rect(200, 100, 40, 20, 80, 60), 200, 100, 3, { size: [50, 50] });
    expect(bright(tensor.data, 50, 50)).toEqual([10, 10, 20, 30]);
    expect(transform.boxToOriginal([10, 10, 20, 30])).toEqual([40, 20, 80, 60]);
  });

  test.each([
    [() => fromPixels([1, 2, 3] as never, 1, 1, 3), TypeError, /fromPixels: expected "data" to be a Uint8Array, Uint8ClampedArray or Buffer of pixels, received Array/],
    [() => fromPixels(new Uint8Array(5), 1, 1, 3), RangeError, /"data" has 5 bytes; 1x1x3 needs 3/],
    [() => fromPixels(new Uint8Array(2), 1, 1, 2 as never), RangeError, /"channels" must be 1, 3 or 4, got 2/],
    [() => fromPixels(new Uint8Array(3), 0, 1, 3), RangeError, /"width" must be an integer in \[1, 65535\], got 0/],
    [() => fromPixels(new Uint8Array(3), 1, 1, 3, { size: [10] as never }), RangeError, /"size" must be \[height, width\]/],
    [() => fromPixels(new Uint8Array(3), 1, 1, 3, { fit: 'stretch' as never }), RangeError, /"fit" must be 'fill' or 'contain' or 'cover'/],
    [() => fromPixels(new Uint8Array(3), 1, 1, 3, { mean: [1, 2] }), RangeError, /"mean" needs 1 or 3 values \(one per output channel\), got 2/],
    [() => fromPixels(new Uint8Array(3), 1, 1, 3, { std: 0 }), RangeError, /"std" must be a finite non-zero number, got 0/],
    [() => fromPixels(new Uint8Array(3), 1, 1, 3, { scale: [1] as never }), TypeError, /expected "scale" to be a number, received Array/],
    [() => fromPixels(new Uint8Array(3), 1, 1, 3, { scale: Infinity }), RangeError, /"scale" must be a finite number/],
    [() => fromPixels(new Uint8Array(3), 1, 1, 3, { pad: 300 }), RangeError, /"pad" must be an integer in \[0, 255\]/],
    [() => fromPixels(new Uint8Array(3), 1, 1, 3, { dtype: 'uint8', scale: 2 }), RangeError, /do not apply to dtype 'uint8'/],
    [() => fromPixels(new Uint8Array(3), 1, 1, 3, { resize: [1, 1] } as never), TypeError, /unknown option "resize"/],
  ])('argument case %#', (f, E, re) => {
    expect(f).toThrow(E);
    expect(f).toThrow(re);
  });
});

describe('fromPixels reproduces the shared models\' reference inputs (made from jpeg-js pixels)', () => {
  const ref = (model: string): Float32Array => {
    const b = readFileSync(path.join(IMAGES, '..', model, 'input_0.f32'));
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  };
  const decode = (photo: string): { data: Uint8Array; width: number; height: number } =>
    jpeg.decode(readFileSync(path.join(IMAGES, photo)), { useTArray: true, formatAsRGBA: false });
  test.each([
    ['ulfd_rfb320', 'faces1.jpg', { size: [240, 320], mean: 127, std: 128 }],
    ['ppocr_cls', 'bus.jpg', { size: [48, 192], scale: 1 / 255, mean: 0.5, std: 0.5 }],
    ['nanodet_m', 'bus.jpg', { size: [416, 416], channels: 'bgr', mean: [103.53, 116.28, 123.675], std: [57.375, 57.12, 58.395] }],
  ] as [string, string, ImageOptions][])('%s from %s: identical', (model, photo, options) => {
    const px = decode(photo);
    const { tensor } = fromPixels(px.data, px.width, px.height, 3, options);
    const want = ref(model);
    expect(tensor.data.length).toBe(want.length);
    let differ = 0;
    for (let i = 0; i < want.length; i++) if (tensor.data[i] !== want[i]) differ++;
    expect(differ).toBe(0);
  });
  test('mobilenetv2_int8 from dog.jpg: all but a few values identical, those off by one level (a .5 rounded the other way)', () => {
    const px = decode('dog.jpg');
    const std = [0.229, 0.224, 0.225];
    const { tensor } = fromPixels(px.data, px.width, px.height, 3, { size: [224, 224], scale: 1 / 255, mean: [0.485, 0.456, 0.406], std });
    const want = ref('mobilenetv2_int8');
    let off = 0, worst = 0;
    for (let i = 0; i < want.length; i++) {
      const levels = Math.abs(want[i] - tensor.data[i]) * std[Math.floor(i / (224 * 224))] * 255;
      worst = Math.max(worst, levels);
      if (levels > 0.01) off++;
    }
    expect(worst).toBeLessThan(1.01);
    expect(off).toBeLessThan(20);
  });
});

describe('load (sharp)', () => {
  test('faces1.jpg at 240×320, as the ulfd_rfb320 reference input was made (jpeg-js decode): within 3 levels', async () => {
    const b = readFileSync('/work/shared/real-models/ulfd_rfb320/input_0.f32');
    const ref = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    const { tensor, transform } = await load(path.join(IMAGES, 'faces1.jpg'), { size: [240, 320], mean: 127, std: 128 });
    expect(tensor.shape).toEqual([1, 3, 240, 320]);
    expect(transform).toMatchObject({ width: 720, height: 478, inputWidth: 320, inputHeight: 240 });
    let max = 0, sum = 0;
    for (let i = 0; i < ref.length; i++) {
      const d = Math.abs(ref[i] - tensor.data[i]) * 128;
      max = Math.max(max, d);
      sum += d;
    }
    // Two JPEG decoders (libjpeg-turbo/mozjpeg vs jpeg-js) differ by a level or two; a wrong resize would differ by tens.
    expect(max).toBeLessThanOrEqual(3.01);
    expect(sum / ref.length).toBeLessThan(1);
  });
  test('a buffer works as a path does; letterbox of a photo', async () => {
    const bytes = readFileSync(path.join(IMAGES, 'selfie.jpg'));
    const { tensor, transform } = await load(bytes, { size: [320, 320], fit: 'contain', channels: 'bgr', layout: 'nhwc', dtype: 'uint8' });
    expect(tensor.shape).toEqual([1, 320, 320, 3]);
    expect(transform).toMatchObject({ width: 2048, height: 1150, dx: 0, dy: Math.floor((320 - Math.round(1150 * 320 / 2048)) / 2) });
    expect(tensor.data[0]).toBe(0); // the top pad row
  });
  test('errors: unreadable image, wrong types, options checked before decoding', async () => {
    await expect(load(Buffer.from('not an image'))).rejects.toMatchObject({ name: 'NeonnError', code: 'ERR_NEONN_IMAGE_DECODE', message: expect.stringMatching(/cannot decode a buffer of 12 bytes/) });
    await expect(load(42 as never)).rejects.toThrow(/image.load: expected "pathOrBuffer" to be a file path or a Uint8Array\/Buffer, received number 42/);
    await expect(load('/nonexistent.jpg', { fit: 'x' as never })).rejects.toThrow(RangeError);
    await expect(load('/nonexistent.jpg')).rejects.toBeInstanceOf(NeonnError);
  });
  test('without sharp: one NeonnError saying how to install it', () => {
    // Run the compiled module (dist) in a child whose resolver has no sharp.
    const child = spawnSync(process.execPath, ['-e', `
      const Module = require('module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (req, ...rest) {
        if (req === 'sharp') { const e = new Error("Cannot find module 'sharp'"); e.code = 'MODULE_NOT_FOUND'; throw e; }
        return resolve.call(this, req, ...rest);
      };
      const { image } = require(${JSON.stringify(path.resolve(__dirname, '../../dist/image'))});
      image.load('x.jpg').then(() => console.log('loaded?'), (e) => console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })));
    `], { encoding: 'utf8' });
    const err = JSON.parse(child.stdout);
    expect(err).toMatchObject({ name: 'NeonnError', code: 'ERR_NEONN_SHARP_MISSING' });
    expect(err.message).toMatch(/needs the optional package sharp.*npm install sharp.*nn\.image\.fromPixels/);
  });
  test('loadBatch stacks photos along the batch axis, one transform each', async () => {
    const photos = [path.join(IMAGES, 'faces1.jpg'), readFileSync(path.join(IMAGES, 'dog.jpg'))];
    const opts = { size: [48, 64] as [number, number], fit: 'contain' as const, scale: 1 / 255 };
    const { tensor, transforms } = await image.loadBatch(photos, opts);
    expect(tensor.shape).toEqual([2, 3, 48, 64]);
    expect(transforms.map((t) => [t.width, t.height])).toEqual([[720, 478], [768, 576]]);
    const one = await load(photos[1], opts);
    expect(Array.from(tensor.data.subarray(3 * 48 * 64))).toEqual(Array.from(one.tensor.data));
    await expect(image.loadBatch([], opts)).rejects.toThrow(/"photos" is empty/);
    await expect(image.loadBatch(photos, {} as never)).rejects.toThrow(/"size" is required/);
    await expect(image.loadBatch('a.jpg' as never, opts)).rejects.toThrow(TypeError);
  });
  test('ImageTransform is exported as a class', () => {
    expect(new ImageTransform(10, 10, 5, 5, 0.5, 0.5, 0, 0).toOriginal(5, 5)).toEqual([10, 10]);
  });
});
