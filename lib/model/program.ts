/**
 * Compiles a forward pass into a native program by tracing: the model's
 * forward function is called once with the ops' native calls recorded instead
 * of run. Every Float32Array an op touched becomes a reference: a constant
 * (weights), a model input or output, or an intermediate placed in one arena
 * by liveness, so buffers are reused and the peak memory of a run is the
 * weights plus the largest set of activations alive at once.
 * @internal
 */
import { NeonnError, fromNative } from '../errors';
import { binding, NativeProgram, NativeTensor } from '../native';
import type { TypedData } from '../dtype';
import { recording } from '../ops/run';
import { SCHEMA } from '../ir/schema';
import { Tensor, TensorLike } from '../tensor';

/** Where a buffer lives in a program: 0 constant, 1 arena, 2 input, 3 output. */
export interface BufRef {
  kind: 0 | 1 | 2 | 3;
  index: number;
  offset: number;
  size: number;
}
type StepArg = number | null | BufRef | BufRef[];

/** A typed tensor of a generic kernel step. dtype: ONNX code. */
export interface KernelTensorRef {
  ref: BufRef;
  dtype: number;
  shape: number[];
}

export interface ProgramStep {
  op: string;
  label: string;
  args: StepArg[];
  /** op 'kernel': the generic kernel's name, tensors and attributes. */
  kernel?: string;
  inputs?: (KernelTensorRef | null)[];
  outputs?: (KernelTensorRef | null)[];
  attrs?: Record<string, unknown>;
}

export interface ProgramSpec {
  /** 'fp16': NHWC regions compute in half precision where the backend can (default 'fp32'). */
  precision?: 'fp32' | 'fp16';
  consts: TypedData[];
  arenaSize: number;
  inputSizes: number[];
  outputSizes: number[];
  steps: ProgramStep[];
}

/** A buffer's size in the program's 4-byte units. */
function units(arr: TypedData): number {
  return Math.ceil(arr.byteLength / 4);
}

interface Known {
  kind: 0 | 1 | 2 | 3;
  index: number;
  /** byteOffset of the registered view in its ArrayBuffer */
  byteOffset: number;
  size: number;
}

/** Arena offsets are multiples of 16 floats (64 bytes) so kernels see aligned rows. */
const ALIGN = 16;

/**
 * Traces `forward` and returns the program spec. `label()` names the step
 * being recorded (e.g. the layer), for error messages and diagnostics.
 * With `dry`, the ops are only recorded and checked, and nothing is planned.
 */
export function trace(
  inputs: { data: TypedData }[],
  constList: TypedData[],
  forward: () => { data: TypedData }[],
  label: () => string,
  dry = false,
  isConst: (buffer: ArrayBufferLike) => boolean = () => false,
): ProgramSpec {
  // Constants computed while planning (folded from shapes) join as they are first read.
  const consts = [...constList];
  const known = new Map<ArrayBufferLike, Known[]>();
  const register = (arr: TypedData, k: Omit<Known, 'byteOffset' | 'size'>): Known => {
    const entry: Known = { ...k, byteOffset: arr.byteOffset, size: units(arr) };
    const list = known.get(arr.buffer) ?? [];
    list.push(entry);
    known.set(arr.buffer, list);
    return entry;
  };
  consts.forEach((c, i) => register(c, { kind: 0, index: i }));
  inputs.forEach((t, i) => register(t.data, { kind: 2, index: i }));

  // Intermediates, numbered in the order they appear; arena offsets come later.
  const firstUse: number[] = [];
  const lastUse: number[] = [];
  const sizes: number[] = [];
  const steps: TracedStep[] = [];

  const refOf = (arr: TypedData, stepIndex: number): BufRef | Inter => {
    const list = known.get(arr.buffer);
    const base = list?.find((k) => arr.byteOffset >= k.byteOffset && arr.byteOffset + arr.byteLength <= k.byteOffset + k.size * 4);
    if (base) {
      if ((arr.byteOffset - base.byteOffset) % 4 !== 0) {
        throw new NeonnError('model: a view that does not start at a multiple of 4 bytes into its buffer', 'ERR_NEONN_INTERNAL', 'model');
      }
      const offset = (arr.byteOffset - base.byteOffset) / 4;
      if (base.kind === 1) {
        lastUse[base.index] = stepIndex;
        return { inter: base.index, offset, size: units(arr) };
      }
      return { kind: base.kind, index: base.index, offset, size: units(arr) };
    }
    if (isConst(arr.buffer)) {
      // A value planning computed (folded): a constant of the program.
      const entry = register(arr, { kind: 0, index: consts.length });
      consts.push(arr);
      return { kind: 0, index: entry.index, offset: 0, size: units(arr) };
    }
    // Never seen: the output buffer an op facade just allocated.
    const id = sizes.length;
    sizes.push(units(arr));
    firstUse.push(stepIndex);
    lastUse.push(stepIndex);
    register(arr, { kind: 1, index: id });
    return { inter: id, offset: 0, size: units(arr) };
  };

  const record = (op: string, args: unknown[]): void => {
    const stepIndex = steps.length;
    if (op === 'kernel') {
      // A generic kernel of the op schema: (name, inputs, outputs, attrs), typed tensors.
      const [name, ins, outs, attrs] = args as [string, (NativeTensor | null)[], NativeTensor[], Record<string, unknown>];
      const typed = (t: NativeTensor | null): TracedTensor | null =>
        t === null ? null : { ref: refOf(t.data as TypedData, stepIndex), dtype: t.dtype, shape: [...t.shape] };
      steps.push({ op, label: label(), args: [], kernel: name, inputs: ins.map(typed), outputs: outs.map(typed), attrs });
      return;
    }
    steps.push({
      op,
      label: label(),
      args: args.map((a) => {
        if (a instanceof Float32Array) return refOf(a, stepIndex);
        if (Array.isArray(a)) return a.map((x) => refOf(x as Float32Array, stepIndex)) as BufRef[];
        if (a === null || a === undefined) return null;
        if (typeof a === 'number') return a;
        if (typeof a === 'boolean') return a ? 1 : 0;
        throw new NeonnError(`model: cannot record argument ${String(a)} of ${op}`, 'ERR_NEONN_INTERNAL', op);
      }),
    });
  };
  const outputs = recording(record, forward);
  // A dry run only checks that the ops accept their arguments (shape inference).
  if (dry) return { consts, arenaSize: 0, inputSizes: [], outputSizes: [], steps: [] };
  // No outputs (every output of an ONNX model empty): the caller makes no program of it.
  if (steps.length === 0 && outputs.length > 0) throw new RangeError('model: nothing to run (the output is the input itself)');

  // Outputs: intermediates written straight into the caller's output buffers.
  const outputOf = new Map<number, number>();
  outputs.forEach((t, i) => {
    const r = refOf(t.data, steps.length - 1);
    if (!('inter' in r) || r.offset !== 0 || r.size !== sizes[r.inter]) {
      throw new RangeError(`model: output ${i} is not produced by an op (it is an input, a constant or a part of a buffer)`);
    }
    outputOf.set(r.inter, i);
  });

  // Shared buffers. place[id] = { root, offset }: intermediate id lives `offset`
  // floats into intermediate root's buffer (itself, at first). Intermediates
  // are written only by the step that creates them (ops get no `out` in a
  // traced forward pass), which is what makes sharing safe.
  const place = sizes.map((_, i) => ({ root: i, offset: 0 }));
  const find = (id: number): { root: number; offset: number } => {
    let offset = 0;
    while (place[id].root !== id) {
      offset += place[id].offset;
      id = place[id].root;
    }
    return { root: id, offset };
  };
  // A whole intermediate that is not a model output and shares no buffer yet.
  const movable = (a: TracedArg | undefined): a is Inter =>
    isInter(a) && whole(a, sizes) && !outputOf.has(a.inter) && place[a.inter].root === a.inter;

  // Concat in place: at batch 1 (nothing before the axis but 1s) each input is
  // one contiguous slice of the output, so its producer writes straight into
  // that slice, and the concat step finds it in place and copies nothing.
  steps.forEach((s, i) => {
    const [list, out, axisArg, rank] = s.args;
    if (s.op !== 'concat' || !Array.isArray(list) || !movable(out) || firstUse[out.inter] !== i) return;
    if (typeof axisArg !== 'number' || typeof rank !== 'number') return;
    const axis = axisArg < 0 ? axisArg + rank : axisArg;
    if (s.args.slice(4, 4 + axis).some((d) => d !== 1)) return; // inputs interleave in the output
    const inputs = list as TracedArg[];
    const count = (id: number): number => inputs.filter((r) => isInter(r) && r.inter === id).length;
    let at = 0;
    for (const r of inputs) {
      // An input listed twice has one buffer for two slices: it is copied.
      if (movable(r) && count(r.inter) === 1) {
        place[r.inter] = { root: out.inter, offset: at };
        firstUse[out.inter] = Math.min(firstUse[out.inter], firstUse[r.inter]);
        lastUse[out.inter] = Math.max(lastUse[out.inter], lastUse[r.inter]);
      }
      at += (r as Inter | BufRef).size;
    }
  });

  // In place: an elementwise op whose input is not read after it writes its
  // result over that input (the native ops accept out === x), so the arena
  // holds one buffer where it held two and the pass touches half the memory.
  steps.forEach((s, i) => {
    const rule = IN_PLACE[s.op];
    const out = s.args[rule?.out ?? -1];
    if (!rule || !movable(out) || firstUse[out.inter] !== i) return;
    for (const k of rule.inputs) {
      const a = s.args[k];
      if (!isInter(a) || !whole(a, sizes) || sizes[a.inter] !== sizes[out.inter]) continue;
      const { root } = find(a.inter);
      // The buffer is read after this step, is a model output, or is read by this
      // step as another argument (say a batchNorm parameter, which must not
      // overlap out): not overwritable.
      if (lastUse[root] !== i || outputOf.has(root)) continue;
      if (s.args.some((b, j) => j !== rule.out && !rule.inputs.includes(j) && usesRoot(b, root, find))) continue;
      place[out.inter] = { root: a.inter, offset: 0 };
      lastUse[root] = Math.max(lastUse[root], lastUse[out.inter]);
      return;
    }
  });

  // The same for the op schema's generic kernels, by the schema's [output,
  // input] pairs: the output takes the input's buffer when the input is a
  // whole intermediate of the same dtype and size, read by nothing after this
  // step and by no other input of it.
  steps.forEach((s, i) => {
    const pairs = s.kernel === undefined ? undefined : KERNEL_IN_PLACE.get(s.kernel);
    if (!pairs) return;
    for (const [o, k] of pairs) {
      const out = s.outputs?.[o];
      const input = s.inputs?.[k];
      if (!out || !input || !movable(out.ref) || firstUse[out.ref.inter] !== i) continue;
      const a = input.ref;
      if (!isInter(a) || !whole(a, sizes) || sizes[a.inter] !== sizes[out.ref.inter] || input.dtype !== out.dtype) continue;
      const { root } = find(a.inter);
      if (lastUse[root] !== i || outputOf.has(root)) continue;
      if (s.inputs!.some((t, j) => j !== k && t !== null && usesRoot(t.ref, root, find))) continue;
      place[out.ref.inter] = { root: a.inter, offset: 0 };
      lastUse[root] = Math.max(lastUse[root], lastUse[out.ref.inter]);
      return;
    }
  });

  // First-fit arena placement by liveness; freed blocks are reused.
  const offsets = new Array<number>(sizes.length).fill(-1);
  let free: { offset: number; size: number }[] = [];
  let arenaSize = 0;
  const byFirst = sizes.map((_, i) => i).filter((i) => !outputOf.has(i) && place[i].root === i).sort((a, b) => firstUse[a] - firstUse[b]);
  const live: number[] = [];
  for (const id of byFirst) {
    // Release everything whose last use is before this one's first use.
    for (let j = live.length - 1; j >= 0; j--) {
      const other = live[j];
      if (lastUse[other] < firstUse[id]) {
        free.push({ offset: offsets[other], size: Math.ceil(sizes[other] / ALIGN) * ALIGN });
        live.splice(j, 1);
      }
    }
    free = mergeFree(free);
    const need = Math.ceil(sizes[id] / ALIGN) * ALIGN;
    const slot = free.findIndex((f) => f.size >= need);
    if (slot >= 0) {
      offsets[id] = free[slot].offset;
      free[slot] = { offset: free[slot].offset + need, size: free[slot].size - need };
      if (free[slot].size === 0) free.splice(slot, 1);
    } else {
      offsets[id] = arenaSize;
      arenaSize += need;
    }
    live.push(id);
  }

  const resolve = (a: StepArg | { inter: number; offset: number; size: number }): StepArg => {
    if (a !== null && typeof a === 'object' && 'inter' in a) {
      const out = outputOf.get(a.inter);
      if (out !== undefined) return { kind: 3, index: out, offset: a.offset, size: a.size };
      const at = find(a.inter);
      return { kind: 1, index: 0, offset: offsets[at.root] + at.offset + a.offset, size: a.size };
    }
    if (Array.isArray(a)) return a.map((x) => resolve(x as BufRef) as BufRef);
    return a;
  };
  const resolveTensor = (t: TracedTensor | null): KernelTensorRef | null => (t === null ? null : { ref: resolve(t.ref) as BufRef, dtype: t.dtype, shape: t.shape });
  return {
    consts,
    arenaSize,
    inputSizes: inputs.map((t) => units(t.data)),
    outputSizes: outputs.map((t) => units(t.data)),
    steps: steps.map((s) =>
      s.kernel === undefined
        ? { op: s.op, label: s.label, args: s.args.map(resolve) }
        : { op: s.op, label: s.label, args: [], kernel: s.kernel, inputs: s.inputs!.map(resolveTensor), outputs: s.outputs!.map(resolveTensor), attrs: s.attrs! },
    ),
  };
}

type Inter = { inter: number; offset: number; size: number };
type TracedArg = StepArg | Inter;
interface TracedTensor {
  ref: BufRef | Inter;
  dtype: number;
  shape: number[];
}
interface TracedStep {
  op: string;
  label: string;
  args: TracedArg[];
  kernel?: string;
  inputs?: (TracedTensor | null)[];
  outputs?: (TracedTensor | null)[];
  attrs?: Record<string, unknown>;
}

/**
 * Generic kernels whose output may be written over an input, from the op
 * schema's `inPlace` [output, input] pairs (a kernel that several entries
 * share keeps only the pairs every one of them declares).
 */
const KERNEL_IN_PLACE: ReadonlyMap<string, readonly (readonly [number, number])[]> = (() => {
  const m = new Map<string, (readonly [number, number])[]>();
  for (const op of SCHEMA.values()) {
    const kernel = op.kernel === undefined ? op.name : op.kernel;
    if (kernel === null) continue;
    const pairs = [...(op.inPlace ?? [])];
    const seen = m.get(kernel);
    m.set(kernel, seen === undefined ? pairs : seen.filter(([o, k]) => pairs.some(([p, q]) => p === o && q === k)));
  }
  return m;
})();

/** Ops whose native kernels accept out === an input: [indices of those inputs, index of out]. */
const IN_PLACE: Record<string, { inputs: number[]; out: number } | undefined> = {
  unary: { inputs: [0], out: 1 },
  prelu: { inputs: [0], out: 2 },
  softmax: { inputs: [0], out: 1 },
  batchNorm: { inputs: [0], out: 5 },
  binary: { inputs: [0, 1], out: 2 },
};

function isInter(a: TracedArg | undefined): a is Inter {
  return a !== null && typeof a === 'object' && 'inter' in a;
}

function whole(a: Inter, sizes: number[]): boolean {
  return a.offset === 0 && a.size === sizes[a.inter];
}

function usesRoot(a: TracedArg, root: number, find: (id: number) => { root: number }): boolean {
  if (Array.isArray(a)) return a.some((x) => usesRoot(x as TracedArg, root, find));
  return isInter(a) && find(a.inter).root === root;
}

function mergeFree(blocks: { offset: number; size: number }[]): { offset: number; size: number }[] {
  const s = [...blocks].sort((a, b) => a.offset - b.offset);
  const out: { offset: number; size: number }[] = [];
  for (const b of s) {
    const last = out[out.length - 1];
    if (last && last.offset + last.size === b.offset) last.size += b.size;
    else out.push({ ...b });
  }
  return out;
}

/** A compiled program on the native side. */
export function createProgram(spec: ProgramSpec): NativeProgram {
  try {
    return new binding.NeonnProgram(spec);
  } catch (err) {
    throw fromNative(err, 'model', binding.getBackend());
  }
}

/**
 * Runs a compiled program on the libuv pool. The native side copies the
 * inputs when the run starts and the outputs back when it ends; a failure
 * (ERR_NEONN_DETACHED: an output was transferred meanwhile) becomes a
 * NeonnError with the stack of `stackFrom`, made where the caller called.
 */
export async function runProgram(op: string, program: NativeProgram, inputs: ArrayBufferView[], outputs: ArrayBufferView[], stackFrom: Error): Promise<void> {
  const backend = binding.getBackend();
  try {
    await program.run(inputs, outputs);
  } catch (err) {
    throw fromNative(err, op, backend, stackFrom);
  }
}

/** {@link runProgram} on the calling thread: its errors as the async run gives them. */
export function runSyncProgram(op: string, program: NativeProgram, inputs: ArrayBufferView[], outputs: ArrayBufferView[], stackFrom: Error): void {
  const backend = binding.getBackend();
  try {
    program.runSync(inputs, outputs);
  } catch (err) {
    throw fromNative(err, op, backend, stackFrom);
  }
}

/** Native bytes held by a set of compiled programs (weights copies + arenas). */
export function programsMemory(programs: Iterable<{ program?: NativeProgram }>): number {
  let n = 0;
  for (const e of programs) n += e.program?.memoryBytes() ?? 0;
  return n;
}

/** Disposes every program of a model (a run in flight finishes first) and forgets them. */
export function disposePrograms(programs: Map<unknown, { program?: NativeProgram }>): void {
  for (const e of programs.values()) e.program?.dispose();
  programs.clear();
}

/** Runs a program into freshly allocated (or given) output tensors. */
export function outputsFor(shapes: number[][]): Tensor[] {
  return shapes.map((s) => new Tensor(new Float32Array(s.reduce((a, b) => a * b, 1)), s));
}
