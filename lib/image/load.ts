/**
 * `nn.image.load`: decodes a photo with sharp (an optional peer dependency,
 * required on first use only), then makes the model input with fromPixels.
 */
import { NeonnError, rangeError, typeError } from '../errors';
import { TypedTensor } from '../ir/ops';
import { Tensor } from '../tensor';
import { ImageInput, ImageOptions, convert } from './pixels';
import { ImageTransform } from './transform';

/** The part of sharp's API used here. */
interface SharpLike {
  (input: string | Uint8Array, options?: { failOn?: string }): {
    rotate(): ReturnType<SharpLike>;
    raw(): ReturnType<SharpLike>;
    toBuffer(o: { resolveWithObject: true }): Promise<{ data: Buffer; info: { width: number; height: number; channels: number } }>;
  };
}

let sharpModule: SharpLike | undefined;

/** @internal sharp, loaded on first use; a NeonnError that says how to install it when it is missing. */
export function loadSharp(op: string): SharpLike {
  if (sharpModule !== undefined) return sharpModule;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    sharpModule = require('sharp') as SharpLike;
    return sharpModule;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const missing = e.code === 'MODULE_NOT_FOUND' && /'sharp'/.test(e.message);
    throw new NeonnError(
      missing
        ? `${op}: decoding images needs the optional package sharp, which is not installed: run \`npm install sharp\` ` +
          '(prebuilt for linux-x64, linux-arm64 and linux-arm), or pass raw pixels to nn.image.fromPixels'
        : `${op}: sharp is installed but failed to load: ${e.message}`,
      missing ? 'ERR_NEONN_SHARP_MISSING' : 'ERR_NEONN_SHARP_LOAD',
      op,
    );
  }
}

/** Options of `load`: those of fromPixels, and whether to apply the photo's EXIF orientation. */
export interface LoadImageOptions extends ImageOptions {
  /** Rotate as the photo's EXIF orientation says (as viewers show it); default true. */
  autoOrient?: boolean;
}

/**
 * Decodes a photo (JPEG, PNG, WebP, AVIF, TIFF, GIF: whatever sharp reads) and
 * makes a model input of it. Needs the optional package `sharp`.
 * @param pathOrBuffer - a file path or the encoded bytes
 * @param options - size, fit, channels, normalization, layout: see {@link ImageOptions}
 * @returns `{ tensor, transform }`, as `fromPixels`
 * @throws {TypeError} for a wrong argument type or option
 * @throws {NeonnError} `ERR_NEONN_SHARP_MISSING` when sharp is not installed, `ERR_NEONN_IMAGE_DECODE` for an unreadable image
 * @example
 * const { tensor, transform } = await nn.image.load('photo.jpg',
 *   { size: [240, 320], mean: 127, std: 128 });
 */
export async function load(pathOrBuffer: string | Uint8Array, options?: LoadImageOptions): Promise<ImageInput<Tensor>>;
export async function load(pathOrBuffer: string | Uint8Array, options: LoadImageOptions & { dtype: 'uint8' }): Promise<ImageInput<TypedTensor>>;
export async function load(pathOrBuffer: string | Uint8Array, options?: LoadImageOptions): Promise<ImageInput<Tensor | TypedTensor>> {
  const op = 'image.load';
  if (typeof pathOrBuffer !== 'string' && !(pathOrBuffer instanceof Uint8Array)) {
    typeError(op, 'pathOrBuffer', 'a file path or a Uint8Array/Buffer', pathOrBuffer);
  }
  const { autoOrient, ...rest } = options ?? {};
  if (autoOrient !== undefined && typeof autoOrient !== 'boolean') typeError(op, 'autoOrient', 'a boolean', autoOrient);
  // Check the options before decoding: a typo fails fast, not after the work.
  convert(op, new Uint8Array(3), 1, 1, 3, rest);
  const sharp = loadSharp(op);
  let decoded;
  try {
    let img = sharp(pathOrBuffer);
    if (autoOrient !== false) img = img.rotate();
    decoded = await img.raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    const what = typeof pathOrBuffer === 'string' ? JSON.stringify(pathOrBuffer) : `a buffer of ${pathOrBuffer.length} bytes`;
    throw new NeonnError(`${op}: cannot decode ${what}: ${(err as Error).message}`, 'ERR_NEONN_IMAGE_DECODE', op);
  }
  const { data, info } = decoded;
  // sharp gives 1 to 4 channels; 2 is gray + alpha: keep the gray.
  let pixels: Uint8Array = data, channels = info.channels;
  if (channels === 2) {
    pixels = new Uint8Array(info.width * info.height);
    for (let i = 0; i < pixels.length; i++) pixels[i] = data[2 * i];
    channels = 1;
  }
  return convert(op, pixels, info.width, info.height, channels, rest);
}

/**
 * Several photos as one batch: each decoded and made into the input as
 * `load` does (in parallel), stacked along the batch axis.
 * @param photos - file paths or encoded bytes, at least one
 * @param options - as `load`; `size` is required (the photos must come out the same size)
 * @returns `{ tensor, transforms }`: `[N, C, H, W]` (or `[N, H, W, C]`) and one transform per photo
 * @throws {TypeError} for a non-array or a bad option
 * @throws {RangeError} for an empty list or a missing `size`
 * @example
 * const { tensor, transforms } = await nn.image.loadBatch(['a.jpg', 'b.jpg'], { size: [224, 224], scale: 1 / 255 });
 */
export async function loadBatch(photos: readonly (string | Uint8Array)[], options: LoadImageOptions & { size: [number, number] }): Promise<{ tensor: Tensor; transforms: ImageTransform[] }> {
  const op = 'image.loadBatch';
  if (!Array.isArray(photos)) typeError(op, 'photos', 'an array of file paths or buffers', photos);
  if (photos.length === 0) rangeError(op, '"photos" is empty');
  if (options === undefined || options === null || options.size === undefined) rangeError(op, '"size" is required: every photo must come out the same size');
  if (options.dtype !== undefined && options.dtype !== 'float32') rangeError(op, "batches are float32 (dtype 'uint8': load them one by one)");
  const each = await Promise.all(photos.map((p) => load(p, options)));
  const per = each[0].tensor.data.length;
  const data = new Float32Array(per * each.length);
  each.forEach((e, i) => data.set(e.tensor.data, i * per));
  return { tensor: new Tensor(data, [each.length, ...each[0].tensor.shape.slice(1)]), transforms: each.map((e) => e.transform) };
}
