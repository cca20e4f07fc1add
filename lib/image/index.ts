/**
 * `nn.image`: from a photo or a camera frame to a model's input tensor, and
 * from the model's coordinates back to the photo.
 */
import { fromPixels } from './pixels';
import { load, loadBatch } from './load';

export { ImageTransform } from './transform';
export type { BoxMapOptions } from './transform';
export type { ImageOptions, ImageInput, ImageFit, PixelData } from './pixels';
export type { LoadImageOptions } from './load';

/**
 * Image preprocessing.
 * @example
 * const { tensor, transform } = await nn.image.load('faces.jpg', { size: [240, 320], mean: 127, std: 128 });
 */
export const image = Object.freeze({ load, loadBatch, fromPixels });
