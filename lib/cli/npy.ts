/**
 * Raw tensors for `neonn run --input`: `.npy` (NumPy's format, header with
 * dtype and shape; float32 or float64, C order) or headerless little-endian
 * float32 (`.f32`, `.bin`, `.raw`).
 */
import { readFileSync } from 'fs';
import { UsageError } from './args';

/** A tensor read from a file; `shape` undefined for a headerless file. */
export interface RawTensor {
  data: Float32Array;
  shape?: number[];
}

/** Reads `file` as .npy (by its magic) or as raw float32. */
export function readTensorFile(file: string): RawTensor {
  const bytes = readFileSync(file);
  if (bytes.length >= 6 && bytes[0] === 0x93 && bytes.toString('latin1', 1, 6) === 'NUMPY') return parseNpy(file, bytes);
  if (bytes.length % 4 !== 0) throw new UsageError(`neonn run: ${file} has ${bytes.length} bytes, not a whole number of float32s (a .npy needs its header)`);
  const data = new Float32Array(bytes.length / 4);
  for (let i = 0; i < data.length; i++) data[i] = bytes.readFloatLE(4 * i);
  return { data };
}

function parseNpy(file: string, b: Buffer): RawTensor {
  const bad = (why: string): never => {
    throw new UsageError(`neonn run: ${file}: ${why}`);
  };
  const major = b[6];
  const headerLen = major === 1 ? b.readUInt16LE(8) : major === 2 || major === 3 ? b.readUInt32LE(8) : bad(`unknown .npy version ${major}`);
  const start = major === 1 ? 10 : 12;
  const header = b.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) bad('not a valid .npy header');
  if (fortran === 'True') bad('Fortran order is not supported (save with C order)');
  const shape = shapeText!.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) bad(`bad shape (${shapeText})`);
  const count = shape.reduce((a, d) => a * d, 1);
  const size = descr === '<f4' ? 4 : descr === '<f8' ? 8 : bad(`dtype ${descr} is not supported (float32 '<f4' or float64 '<f8')`);
  const at = start + headerLen;
  if (b.length - at !== count * size) bad(`holds ${b.length - at} data bytes, shape (${shape.join(', ')}) needs ${count * size}`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = size === 4 ? b.readFloatLE(at + 4 * i) : b.readDoubleLE(at + 8 * i);
  return { data, shape };
}
