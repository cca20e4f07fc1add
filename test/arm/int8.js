// Quantized NHWC regions on XNNPACK's qs8 operators, for
// test/arm/int8.test.ts, which runs this under qemu-user with the ARM
// prebuilds:   node int8.js <dir of the shared mobilenetv2_int8>
// prints as JSON the int8 model's output on xnnpack (its QLinearConvs in one
// quantized region) and how layers() describes the convs.
// Plain JavaScript, so it needs no TypeScript tooling under emulation.
'use strict';

const fs = require('fs');
const path = require('path');
const nn = require('neonn');

function floats(file) {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

async function main() {
  const dir = process.argv[2];
  nn.setBackend('xnnpack');
  const m = await nn.loadOnnx(path.join(dir, 'model.onnx'));
  const feeds = { [m.inputNames[0]]: nn.tensor(floats(path.join(dir, 'input_0.f32')), [1, 3, 224, 224]) };
  const out = Array.from((await m.run(feeds))[m.outputNames[0]].data);
  const sync = Array.from(m.runSync(feeds)[m.outputNames[0]].data);
  const convs = m.layers().filter((l) => l.op === 'QLinearConv');
  const notes = [...new Set(convs.map((l) => l.choice || 'none'))];
  m.dispose();
  return { arch: process.arch, out, sync, convs: convs.length, notes };
}

main().then(
  (r) => process.stdout.write(JSON.stringify(r)),
  (err) => {
    console.error(err && err.stack ? err.stack : String(err));
    process.exit(1);
  },
);
