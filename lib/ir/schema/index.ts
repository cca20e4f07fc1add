/**
 * The op schema: every op neonn runs, declared once (see ./types.ts and
 * docs/adding-an-op.md). Each group lives in its own file; this table
 * gathers them and is what the ONNX importer, `nn.ops`, the planner and the
 * README's op table read.
 * @internal
 */
import type { OpSchema } from './types';
import { DATA_OPS } from './data';
import { QUANT } from './quant';
import { UNARY } from './unary';
import { ELEMENTWISE } from './elementwise';
import { REDUCE } from './reduce';
import { SPATIAL } from './spatial';
import { NORM } from './norm';
import { RECURRENT } from './recurrent';

const GROUPS: readonly (readonly OpSchema[])[] = [UNARY, ELEMENTWISE, REDUCE, DATA_OPS, SPATIAL, NORM, RECURRENT, QUANT];

/** Every op by `domain:name` ('' domain for ONNX's default). */
export const SCHEMA: ReadonlyMap<string, OpSchema> = (() => {
  const m = new Map<string, OpSchema>();
  for (const group of GROUPS) {
    for (const op of group) {
      const key = `${op.domain ?? ''}:${op.name}`;
      if (m.has(key)) throw new Error(`op schema: ${key} is declared twice`);
      m.set(key, op);
    }
  }
  return m;
})();

/** The schema of an op, or undefined. */
export function schemaOf(name: string, domain = ''): OpSchema | undefined {
  return SCHEMA.get(`${domain === 'ai.onnx' ? '' : domain}:${name}`);
}

export type { OpSchema } from './types';
