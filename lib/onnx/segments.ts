/**
 * A graph with data-dependent ops (NonMaxSuppression, NonZero) runs as
 * segments: each run of ordinary steps is a sub-model planned into native
 * programs (one per shape it is fed, cached), and each data-dependent op is
 * computed between them on the values the previous segment produced. The
 * first segment reads only the graph's inputs, so it is planned at load like
 * any model; later ones are planned at their first run, for the shapes the
 * data gave.
 *
 * An op that selects nothing (no box above the score threshold) yields an
 * empty tensor. Native programs hold no empty tensors, so a segment fed one
 * runs step by step instead: steps on empty values by their shape rules
 * (Gather, Concat, Slice, Reshape, elementwise... give empty results), the
 * others on their kernels.
 * @internal
 */
import { NeonnError } from '../errors';
import { DType, allocate } from '../dtype';
import type { TValue } from '../ir/exec';
import { Tensor, sizeOf } from '../tensor';
import type { Graph, Port, Step } from './graph';
import { Ctx, evalNode, typedOf, valueOfTyped } from './ops';
import { isDataDependent, runDataDependent } from './dynamic';
import { emptyStep } from './empty';

/** What the segments need of a planned sub-model (an OnnxModel over a segment's sub-graph). */
export interface SegmentModel {
  runSync(feeds: Record<string, TValue>): Record<string, Tensor>;
  run(feeds: Record<string, TValue>): Promise<Record<string, Tensor>>;
  memoryBytes(): number;
  dispose(): void;
}

/** Makes the sub-model of a segment; `first`: it reads only graph inputs (planned at load, as a whole model is). */
export type SegmentFactory = (g: Graph, first: boolean) => SegmentModel;

interface ProgramPart {
  kind: 'program';
  steps: Step[];
  /** Values it reads that an earlier part or the feeds produce. */
  inputs: string[];
  /** Values it produces that a later part or the graph's outputs read. */
  outputs: string[];
  model?: SegmentModel;
}

interface OpPart {
  kind: 'op';
  step: Step;
}

type Part = ProgramPart | OpPart;

export class Segments {
  private readonly parts: Part[];
  private readonly consts: Map<string, TValue>;

  constructor(
    private readonly graph: Graph,
    private readonly make: SegmentFactory,
  ) {
    const parts: Part[] = [];
    let run: Step[] = [];
    const close = (): void => {
      if (run.length > 0) parts.push({ kind: 'program', steps: run, inputs: [], outputs: [] });
      run = [];
    };
    for (const s of graph.steps) {
      if (isDataDependent(s.node)) {
        close();
        parts.push({ kind: 'op', step: s });
      } else run.push(s);
    }
    close();
    this.parts = parts;
    // Who reads what: a part's inputs come from before it, its outputs go to after it.
    const readers = parts.map((p) => new Set(p.kind === 'op' ? p.step.inputs : p.steps.flatMap((s) => s.inputs)));
    const graphOutputs = new Set(graph.outputs.map((o) => o.name));
    parts.forEach((p, k) => {
      if (p.kind !== 'program') return;
      const made = new Set(p.steps.flatMap((s) => s.outputs));
      p.inputs = [...readers[k]].filter((n) => n !== '' && !made.has(n) && !graph.consts.has(n));
      p.outputs = [...made].filter((n) => n !== '' && (graphOutputs.has(n) || readers.slice(k + 1).some((r) => r.has(n))));
    });
    // Constants the ops and the graph outputs read directly (a segment's sub-graph carries its own).
    this.consts = new Map();
    const direct = [...parts.flatMap((p) => (p.kind === 'op' ? p.step.inputs : [])), ...graphOutputs];
    for (const n of direct) {
      const v = graph.consts.get(n);
      if (v !== undefined) this.consts.set(n, typedOf(v));
    }
    // The first segment, when it reads only graph inputs, is planned now: shape errors show at load.
    const first = parts[0];
    const inputNames = new Set(graph.inputs.map((i) => i.name));
    if (first?.kind === 'program' && first.inputs.every((n) => inputNames.has(n))) {
      // Fed the values the whole model's feeds were converted into: widened types arrive held.
      const held = graph.inputs.filter((i) => first.inputs.includes(i.name)).map(({ widened: _, ...port }) => port);
      first.model = make(this.subGraph(first, held), true);
    }
  }

  private subGraph(p: ProgramPart, inputs: Port[]): Graph {
    const consts = new Map<string, Graph['consts'] extends Map<string, infer V> ? V : never>();
    for (const s of p.steps) {
      for (const n of s.inputs) {
        const v = this.graph.consts.get(n);
        if (v !== undefined) consts.set(n, v);
      }
    }
    const outputs: Port[] = p.outputs.map((name) => ({ name, shape: [], dims: [], dtype: 'float32' }));
    return { opset: this.graph.opset, inputs, outputs, consts, steps: p.steps };
  }

  /** The sub-model of a later segment, made at its first run for the dtypes and ranks fed (fixed in ONNX). */
  private modelOf(p: ProgramPart, env: Map<string, TValue>): SegmentModel {
    if (!p.model) {
      const ports = p.inputs.map((name): Port => {
        const v = env.get(name)!;
        return { name, shape: v.shape.map(() => -1), dims: v.shape.map(() => '?'), dtype: v.dtype };
      });
      p.model = this.make(this.subGraph(p, ports), false);
    }
    return p.model;
  }

  private value(env: Map<string, TValue>, name: string, label: string): TValue {
    const v = env.get(name) ?? this.consts.get(name);
    if (v === undefined) throw new NeonnError(`run: ${label}: value "${name}" is never computed`, 'ERR_NEONN_ONNX_INVALID', 'run');
    return v;
  }

  private feedsOf(p: ProgramPart, env: Map<string, TValue>): Record<string, TValue> | undefined {
    const feeds: Record<string, TValue> = {};
    for (const n of p.inputs) {
      const v = this.value(env, n, p.steps[0].label);
      if (sizeOf(v.shape) === 0) return undefined;
      feeds[n] = v;
    }
    return feeds;
  }

  private runOp(p: OpPart, env: Map<string, TValue>): void {
    const ins = p.step.inputs.map((n) => (n === '' ? undefined : this.value(env, n, p.step.label)));
    const outs = runDataDependent(p.step.node, p.step.label, ins);
    p.step.outputs.forEach((n, i) => {
      if (n !== '' && outs[i]) env.set(n, outs[i]);
    });
  }

  private store(p: ProgramPart, env: Map<string, TValue>, outs: Record<string, Tensor>): void {
    for (const n of p.outputs) env.set(n, typedOf(outs[n]));
  }

  private outputs(env: Map<string, TValue>): TValue[] {
    return this.graph.outputs.map((o) => this.value(env, o.name, 'graph outputs'));
  }

  /** Runs every part on the calling thread. */
  runSync(feeds: Map<string, TValue>): TValue[] {
    const env = new Map(feeds);
    for (const p of this.parts) {
      if (p.kind === 'op') this.runOp(p, env);
      else {
        const f = this.feedsOf(p, env);
        if (f === undefined) this.runStepwise(p, env);
        else this.store(p, env, this.modelOf(p, env).runSync(f));
      }
    }
    return this.outputs(env);
  }

  /** Runs the planned segments on the libuv pool, the data-dependent ops between them on the calling thread. */
  async run(feeds: Map<string, TValue>): Promise<TValue[]> {
    const env = new Map(feeds);
    for (const p of this.parts) {
      if (p.kind === 'op') this.runOp(p, env);
      else {
        const f = this.feedsOf(p, env);
        if (f === undefined) this.runStepwise(p, env);
        else this.store(p, env, await this.modelOf(p, env).run(f));
      }
    }
    return this.outputs(env);
  }

  /** A segment fed an empty tensor: each step now, empty values by shape rules, the rest on the kernels. */
  private runStepwise(p: ProgramPart, env: Map<string, TValue>): void {
    for (const s of p.steps) {
      const ins = s.inputs.map((n) => {
        if (n === '') return undefined;
        const c = this.graph.consts.get(n);
        return c !== undefined ? typedOf(c) : this.value(env, n, s.label);
      });
      let outs: TValue[];
      if (ins.some((v) => v !== undefined && sizeOf(v.shape) === 0)) outs = emptyStep(s, ins, this.graph.opset);
      else {
        const ctx: Ctx = { node: s.node, label: s.label, opset: this.graph.opset, constant: () => true, activation: s.activation };
        outs = evalNode(ctx, ins.map((v) => (v === undefined ? undefined : valueOfTyped(v, true)))).map(typedOf);
      }
      s.outputs.forEach((n, i) => {
        if (n !== '' && outs[i] !== undefined) env.set(n, own(outs[i]));
      });
    }
  }

  /** Per part, for layers(): the steps of data-dependent ops, and the sub-models. */
  describe(): { op?: Step; model?: SegmentModel }[] {
    return this.parts.map((p) => (p.kind === 'op' ? { op: p.step } : { ...(p.model ? { model: p.model } : {}) }));
  }

  memoryBytes(): number {
    return this.parts.reduce((n, p) => n + (p.kind === 'program' && p.model ? p.model.memoryBytes() : 0), 0);
  }

  dispose(): void {
    for (const p of this.parts) if (p.kind === 'program') p.model?.dispose();
  }
}

/** A value computed step by step, in a buffer of its own (a kernel's result may be a view of a constant). */
function own(v: TValue): TValue {
  const n = sizeOf(v.shape);
  const data = allocate(v.dtype as DType, n);
  if (n > 0) (data as Float32Array).set(v.data.subarray(0, n) as Float32Array);
  return { dtype: v.dtype, data, shape: [...v.shape] };
}
