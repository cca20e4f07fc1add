// Whole models through nn.loadOnnx, for test/arm/model.test.ts, which runs
// this natively and under qemu-user with each ARM prebuild:
//   node model.js <model.onnx>
// prints as JSON the model's output on both OpenBLAS builds (runSync and
// run), and the logits of the zoo's SqueezeNet with seeded random weights
// (whose values, unlike the shared model's, depend on every weight and input),
// and the relative error of two Winograd convs of an XNNPACK region against
// the reference backend, with the region's note.
// Plain JavaScript, so it needs no TypeScript tooling under emulation.
'use strict';

const fs = require('fs');
const nn = require('neonn');

const input = (shape) =>
  nn.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.013) * 0.5), [...shape]);
const values = (t) => Array.from(t.data);

async function main() {
  const file = process.argv[2];
  const backends = ['openblas', 'openblas-dl'].filter((b) => nn.backends().some((x) => x.name === b && x.available));
  const shared = {};
  const model = await nn.loadOnnx(fs.readFileSync(file));
  const feeds = { [model.inputNames[0]]: input(model.inputShapes[0]) };
  for (const b of backends) {
    nn.setBackend(b);
    shared[`${b}/runSync`] = values(model.runSync(feeds)[model.outputNames[0]]);
    shared[`${b}/run`] = values((await model.run(feeds))[model.outputNames[0]]);
  }
  model.dispose();

  nn.setBackend(backends[backends.length - 1]);
  const zoo = await nn.zoo.squeezenet({ seed: 5, softmax: false });
  const logits = values((await zoo.run({ [zoo.inputNames[0]]: input(zoo.inputShapes[0]) }))[zoo.outputNames[0]]);
  zoo.dispose();

  // Two 3x3 convs that an NHWC region on the built-in XNNPACK computes as Winograd F(4x4, 3x3) (channels past the
  // vector width, outputs not a multiple of 4), against the reference backend in the same process.
  const net = new nn.Sequential(
    [
      nn.layers.conv2d({ filters: 24, kernel: 1 }),
      nn.layers.conv2d({ filters: 40, kernel: 3, pads: 1, activation: 'relu' }),
      nn.layers.conv2d({ filters: 20, kernel: 3, pads: 1 }),
    ],
    { inputShape: [18, 17, 15], seed: 3 },
  );
  const wm = nn.loadOnnxSync(nn.saveOnnx(net));
  const wx = { [wm.inputNames[0]]: input([1, 18, 17, 15]) };
  nn.setBackend('reference');
  const want = values(wm.runSync(wx)[wm.outputNames[0]]);
  nn.setBackend('xnnpack');
  const got = values(wm.runSync(wx)[wm.outputNames[0]]);
  const notes = [...new Set(wm.layers().flatMap((l) => (l.choice ? [l.choice] : [])))];
  wm.dispose();
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return { arch: process.arch, backends, shared, zoo: { backend: nn.getBackend(), logits }, winograd: { notes, err: err / scale } };
}

main().then(
  (r) => process.stdout.write(JSON.stringify(r)),
  (err) => {
    console.error(err && err.stack ? err.stack : String(err));
    process.exit(1);
  },
);
