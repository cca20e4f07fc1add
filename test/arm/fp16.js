// fp16 NHWC regions, for test/arm/fp16.test.ts, which runs this under
// qemu-user with the arm64 prebuild on a core with half-precision arithmetic
// (-cpu max) and on one without (cortex-a53):
//   node fp16.js
// prints as JSON whether XNNPACK says it runs fp16 here, the output of a small
// convnet on xnnpack loaded with precision 'fp32' and with 'fp16', and how
// layers() describes the fp16 model's region.
// Plain JavaScript, so it needs no TypeScript tooling under emulation.
'use strict';

const nn = require('neonn');

function data(n, seed) {
  const d = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    d[i] = s / 2 ** 31 - 1;
  }
  return d;
}

async function main() {
  nn.setBackend('xnnpack');
  const net = new nn.Sequential(
    [
      nn.layers.conv2d({ filters: 16, kernel: 3, pads: 1, strides: 2, activation: 'relu' }),
      nn.layers.conv2d({ filters: 16, kernel: 3, pads: 1, group: 16 }),
      nn.layers.relu(),
      nn.layers.conv2d({ filters: 24, kernel: 1 }),
      nn.layers.maxPool2d({ kernel: 2, strides: 2 }),
      nn.layers.globalAvgPool(),
      nn.layers.flatten(),
      nn.layers.dense({ units: 10 }),
    ],
    { inputShape: [8, 32, 32], seed: 4 },
  );
  const bytes = nn.saveOnnx(net, undefined, { batch: 1 });
  const x = nn.tensor(data(8 * 32 * 32, 7), [1, 8, 32, 32]);
  const out = {};
  for (const precision of ['fp32', 'fp16']) {
    const m = await nn.loadOnnx(bytes, { precision });
    const feeds = { [m.inputNames[0]]: x };
    out[precision] = Array.from((await m.run(feeds))[m.outputNames[0]].data);
    out[`${precision}/sync`] = Array.from(m.runSync(feeds)[m.outputNames[0]].data);
    out[`${precision}/notes`] = [...new Set(m.layers().flatMap((l) => (l.choice ? [l.choice] : [])))];
    m.dispose();
  }
  const config = nn.backends().find((b) => b.name === 'xnnpack').config;
  return { arch: process.arch, fp16: /fp16: yes/.test(config), config, out };
}

main().then(
  (r) => process.stdout.write(JSON.stringify(r)),
  (err) => {
    console.error(err && err.stack ? err.stack : String(err));
    process.exit(1);
  },
);
