import sharp from 'sharp';
import { vision } from '../../lib/vision';
import { NeonnError } from '../../lib/errors';

/** A 40×30 mid-gray PNG. */
const gray = (): Promise<Buffer> => sharp(Buffer.alloc(40 * 30 * 3, 128), { raw: { width: 40, height: 30, channels: 3 } }).png().toBuffer();

async function pixels(png: Buffer): Promise<{ at: (x: number, y: number) => number[]; width: number; height: number }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { at: (x, y) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)), width: info.width, height: info.height };
}

describe('drawBoxes', () => {
  test('strokes the box edges in the colour, leaves the rest of the photo alone', async () => {
    const out = await vision.drawBoxes(await gray(), [[10, 5, 30, 25], { box: [0, 0, 4, 4], label: '<face & 0.9>' }], { format: 'png', color: '#ff0000', lineWidth: 2 });
    const p = await pixels(out);
    expect([p.width, p.height]).toEqual([40, 30]);
    expect(p.at(10, 15)).toEqual([255, 0, 0]); // left edge
    expect(p.at(20, 25)).toEqual([255, 0, 0]); // bottom edge
    expect(p.at(20, 15)).toEqual([128, 128, 128]); // inside
    expect(p.at(36, 28)).toEqual([128, 128, 128]); // outside
  });
  test('JPEG by default', async () => {
    const out = await vision.drawBoxes(await gray(), []);
    expect((await sharp(out).metadata()).format).toBe('jpeg');
  });
  test('errors', async () => {
    await expect(vision.drawBoxes(await gray(), [[1, 2, 3]] as never)).rejects.toThrow(/drawBoxes: expected "boxes\[0\]" to be \[x1, y1, x2, y2\]/);
    await expect(vision.drawBoxes(await gray(), [], { lineWidth: 0 })).rejects.toThrow(RangeError);
    await expect(vision.drawBoxes(await gray(), [], { format: 'gif' as never })).rejects.toThrow(/"format" must be 'jpeg' or 'png'/);
    await expect(vision.drawBoxes(Buffer.from('nope'), [])).rejects.toBeInstanceOf(NeonnError);
    await expect(vision.drawBoxes(3 as never, [])).rejects.toThrow(TypeError);
  });
});
