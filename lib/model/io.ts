/**
 * saveModel / loadModel: a Sequential model as a directory holding
 * `model.json` (format, version, input shape, layers with their configs and
 * where each weight lies) and `weights.bin` (every weight, little-endian
 * float32, back to back). Loading checks the format, the version, every
 * offset and size against the file, and rebuilds the layers through the same
 * validating factories, so a truncated or inconsistent file is a clear error.
 */
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { rangeError, typeError } from '../errors';
import { Tensor } from '../tensor';
import { LayerWeights, layerFrom } from './layers';
import { Sequential } from './sequential';

export const MODEL_FORMAT = 'neonn-sequential';
export const MODEL_VERSION = 1;
/** model.json larger than this is not a neonn model (weights live in weights.bin). */
const MAX_JSON_BYTES = 16 * 1024 * 1024;

interface WeightEntry {
  shape: number[];
  /** byte offset in weights.bin */
  offset: number;
  /** element count */
  length: number;
}

interface ModelJson {
  format: string;
  version: number;
  inputShape: number[];
  weightsFile: string;
  weightsBytes: number;
  layers: { type: string; config: Record<string, unknown>; weights?: Record<string, WeightEntry> }[];
}

function toLittleEndian(data: Float32Array): Uint8Array {
  const bytes = new Uint8Array(data.length * 4);
  if (os.endianness() === 'LE') {
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } else {
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  }
  return bytes;
}

function fromLittleEndian(bytes: Uint8Array, offset: number, length: number): Float32Array {
  const out = new Float32Array(length);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, length * 4);
  for (let i = 0; i < length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/**
 * Writes a Sequential model to `dir` (created if needed) as model.json + weights.bin.
 * @example await nn.saveModel(model, './my-model');
 */
export async function saveModel(model: Sequential, dir: string): Promise<void> {
  if (!(model instanceof Sequential)) typeError('saveModel', 'model', 'a Sequential', model);
  if (typeof dir !== 'string' || dir === '') typeError('saveModel', 'dir', 'a directory path', dir);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const layers = model.layers.map((l) => {
    const weights: Record<string, WeightEntry> = {};
    for (const [name, t] of Object.entries(l.weights)) {
      weights[name] = { shape: [...t.shape], offset, length: t.size };
      chunks.push(toLittleEndian(t.data));
      offset += t.size * 4;
    }
    return { type: l.type, config: { ...l.config }, ...(Object.keys(weights).length ? { weights } : {}) };
  });
  const json: ModelJson = { format: MODEL_FORMAT, version: MODEL_VERSION, inputShape: [...model.inputShape], weightsFile: 'weights.bin', weightsBytes: offset, layers };
  await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(path.join(dir, 'weights.bin'), Buffer.concat(chunks));
  await fsp.writeFile(path.join(dir, 'model.json'), `${JSON.stringify(json, null, 2)}\n`);
}

function isInt(v: unknown, min = 0): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min;
}

/**
 * Reads a model written by {@link saveModel}.
 * @throws {RangeError} for a wrong format or version, a truncated weights file, or weights that do not fit the layers
 */
export async function loadModel(dir: string): Promise<Sequential> {
  const op = 'loadModel';
  if (typeof dir !== 'string' || dir === '') typeError(op, 'dir', 'a directory path', dir);
  const jsonPath = path.join(dir, 'model.json');
  const stat = await fsp.stat(jsonPath);
  if (stat.size > MAX_JSON_BYTES) rangeError(op, `${jsonPath} is ${stat.size} bytes; a model.json is at most ${MAX_JSON_BYTES}`);
  let json: ModelJson;
  try {
    json = JSON.parse(await fsp.readFile(jsonPath, 'utf8')) as ModelJson;
  } catch (err) {
    throw new RangeError(`${op}: ${jsonPath} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || json.format !== MODEL_FORMAT) {
    rangeError(op, `${jsonPath} is not a neonn model (format ${JSON.stringify((json as { format?: unknown })?.format)}, expected "${MODEL_FORMAT}")`);
  }
  if (json.version !== MODEL_VERSION) rangeError(op, `model version ${JSON.stringify(json.version)} is not supported (this neonn reads version ${MODEL_VERSION})`);
  if (typeof json.weightsFile !== 'string' || json.weightsFile.includes('/') || json.weightsFile.includes('\\') || json.weightsFile.startsWith('.')) {
    rangeError(op, `weightsFile must be a plain file name next to model.json, got ${JSON.stringify(json.weightsFile)}`);
  }
  if (!isInt(json.weightsBytes)) rangeError(op, `weightsBytes must be a non-negative integer, got ${JSON.stringify(json.weightsBytes)}`);
  if (!Array.isArray(json.layers)) rangeError(op, 'model.json has no "layers" array');
  const bin = await fsp.readFile(path.join(dir, json.weightsFile));
  if (bin.length !== json.weightsBytes) {
    rangeError(op, `${json.weightsFile} has ${bin.length} bytes, model.json says ${json.weightsBytes} (truncated or mismatched file)`);
  }
  const layers = json.layers.map((l, i) => {
    if (typeof l !== 'object' || l === null) rangeError(op, `layers[${i}] is not an object`);
    let weights: LayerWeights | undefined;
    if (l.weights !== undefined) {
      weights = {};
      for (const [name, e] of Object.entries(l.weights)) {
        if (!Array.isArray(e?.shape) || !e.shape.every((d) => isInt(d, 1)) || !isInt(e.offset) || !isInt(e.length, 1)) {
          rangeError(op, `layers[${i}].weights.${name} has an invalid shape, offset or length`);
        }
        const count = e.shape.reduce((a, b) => a * b, 1);
        if (count !== e.length) rangeError(op, `layers[${i}].weights.${name}: shape [${e.shape.join(',')}] needs ${count} elements, length says ${e.length}`);
        if (e.offset % 4 !== 0 || e.offset + e.length * 4 > bin.length) {
          rangeError(op, `layers[${i}].weights.${name} lies outside ${json.weightsFile} (offset ${e.offset}, ${e.length} floats, file ${bin.length} bytes)`);
        }
        weights[name] = new Tensor(fromLittleEndian(bin, e.offset, e.length), e.shape);
      }
    }
    try {
      return layerFrom(l.type, l.config ?? {}, weights);
    } catch (err) {
      if (err instanceof Error) err.message = `${op}: layers[${i}]: ${err.message}`;
      throw err;
    }
  });
  return new Sequential(layers, { inputShape: json.inputShape });
}
