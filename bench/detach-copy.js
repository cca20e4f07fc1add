#!/usr/bin/env node
// @ts-check
// What the async copies of issue 14 cost on the zoo models: every async model
// run copies its inputs into native memory when it starts and its outputs
// back when it ends (binding/owned_buffers.h). Prints, per model, the median
// async run, the median time of the same copies done here (cold caches, into
// reused memory as the native pool does) and their ratio.
//
//   node bench/detach-copy.js [--models squeezenet,mobilenetV2] [--runs 5]
'use strict';

const nn = require('..');

const now = () => Number(process.hrtime.bigint()) / 1e6;
/** @param {number[]} xs */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

/**
 * The copies one run makes: each input once, each output in and back, into
 * memory reused from earlier runs (binding/owned_buffers.h's BufferPool), with
 * the caches flushed before each (a cold copy, as after a run). TypedArray
 * set() is a memcpy.
 */
function copyMs(inputs, outputs, reps) {
  const flush = new Float32Array(8 << 20);
  const inCopies = inputs.map((a) => new Float32Array(a.length));
  const outCopies = outputs.map((a) => new Float32Array(a.length));
  const times = [];
  for (let r = 0; r < reps; r++) {
    flush.fill(r);
    const t0 = now();
    inputs.forEach((a, i) => inCopies[i].set(a));
    outputs.forEach((a, i) => {
      outCopies[i].set(a);
      a.set(outCopies[i]);
    });
    times.push(now() - t0);
  }
  return median(times);
}

async function main() {
  const names = arg('models', 'squeezenet,mobilenetV2,googlenet,resnet50,alexnet').split(',');
  const runs = Number(arg('runs', '5'));
  const rows = [];
  for (const name of names) {
    const m = await nn.zoo[name]({ seed: 1 });
    const x = nn.tensor(new Float32Array(3 * 224 * 224).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5), [1, 3, 224, 224]);
    const first = await m.run({ [m.inputNames[0]]: x });
    const times = [];
    for (let r = 0; r < runs; r++) {
      const t0 = now();
      await m.run({ [m.inputNames[0]]: x });
      times.push(now() - t0);
    }
    const run = median(times);
    const copy = copyMs([x.data], Object.values(first).map((t) => t.data), 51);
    rows.push({ model: name, runMs: +run.toFixed(2), copyMs: +copy.toFixed(4), percent: +((100 * copy) / run).toFixed(3) });
    m.dispose();
  }
  console.table(rows);
  console.log(JSON.stringify(rows));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
