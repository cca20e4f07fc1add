// Runs every op on every backend (sync and async) and a Sequential model on
// fixed inputs and prints the results as JSON. test/arm/emulated.test.ts runs
// it natively and under qemu-user with each ARM prebuild and compares: the
// boards must compute what x86-64 computes. Plain JavaScript, so it needs no
// TypeScript tooling under emulation.
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
const t = (shape, seed) => nn.tensor(data(shape.reduce((a, b) => a * b, 1), seed), shape);

async function run() {
  const x = t([2, 4, 9, 9], 1);
  const w = t([6, 4, 3, 3], 2);
  const bias = t([6], 3);
  const out = {};
  const put = (name, y) => {
    out[name] = Array.from(y.data, (v) => Math.round(v * 1e6) / 1e6);
  };
  // The backends every prebuild carries (XNNPACK is built in); nnpack is a
  // library loaded at run time, present on this machine or that board, not in
  // the emulation sysroots, so it is not part of the comparison.
  const bundled = ['auto', 'openblas', 'openblas-dl', 'xnnpack', 'reference'];
  for (const backend of nn.backends().filter((b) => b.available && bundled.includes(b.name)).map((b) => b.name)) {
    nn.setBackend(backend);
    const k = (op) => `${backend}/${op}`;
    put(k('gemm'), nn.gemm(t([7, 5], 4), t([5, 3], 5), { alpha: 0.5, beta: 2, c: t([3], 6) }));
    put(k('gemm.transAB'), nn.gemm(t([5, 7], 4), t([3, 5], 5), { transA: true, transB: true }));
    put(k('conv2d'), nn.conv2d(x, w, { bias, pads: 1, activation: 'relu' }));
    put(k('conv2d.strided'), nn.conv2d(x, w, { strides: 2, pads: [0, 1, 2, 1], dilations: [1, 2] }));
    put(k('conv2d.group'), nn.conv2d(x, t([6, 2, 3, 3], 7), { group: 2 }));
    put(k('conv2d.depthwise'), nn.conv2d(x, t([4, 1, 3, 3], 8), { group: 4, pads: 1 }));
    put(k('conv2d.1x1'), nn.conv2d(x, t([3, 4, 1, 1], 9)));
    put(k('fullyConnected'), nn.fullyConnected(x, t([5, 324], 10), { bias: t([5], 11) }));
    put(k('maxPool2d'), nn.maxPool2d(x, { kernel: 3, strides: 2, ceil: true }));
    put(k('avgPool2d'), nn.avgPool2d(x, { kernel: 2, strides: 2, pads: 1, countIncludePad: true }));
    put(k('globalAvgPool'), nn.globalAvgPool(x));
    put(k('relu'), nn.relu(x));
    put(k('leakyRelu'), nn.leakyRelu(x, 0.1));
    put(k('prelu'), nn.prelu(x, t([4, 1, 1], 12)));
    put(k('sigmoid'), nn.sigmoid(x));
    put(k('tanh'), nn.tanh(x));
    put(k('clip'), nn.clip(x, -0.5, 0.25));
    put(k('softmax'), nn.softmax(x, { axis: 1 }));
    put(k('logSoftmax'), nn.logSoftmax(x));
    put(k('batchNorm'), nn.batchNorm(x, { scale: t([4], 13), bias: t([4], 14), mean: t([4], 15), variance: nn.tensor(new Float32Array([1, 2, 0.5, 3]), [4]) }));
    put(k('lrn'), nn.lrn(x, { size: 3 }));
    put(k('add'), nn.add(x, t([9], 16)));
    put(k('mul'), nn.mul(x, t([4, 1, 1], 17)));
    put(k('concat'), nn.concat([x, t([2, 1, 9, 9], 18)], 1));
    put(k('transpose'), nn.transpose(x, [0, 2, 3, 1]));
    put(k('pad'), nn.pad(x, [0, 0, 1, 2, 0, 0, 2, 1], 0.5));
    put(k('flatten+reshape'), nn.reshape(nn.flatten(x, 1), [2, 4, 81]));
    put(k('async.gemm'), await nn.async.gemm(t([9, 8], 19), t([8, 7], 20)));
    put(k('async.conv2d'), await nn.async.conv2d(x, w, { pads: 1 }));
    put(k('async.softmax'), await nn.async.softmax(x));
    const model = new nn.Sequential(
      [
        nn.layers.conv2d({ filters: 8, kernel: 3, pads: 1 }),
        nn.layers.batchNorm(),
        nn.layers.relu(),
        nn.layers.maxPool2d({ kernel: 2, strides: 2 }),
        nn.layers.conv2d({ filters: 8, kernel: 3, pads: 1, activation: 'relu' }),
        nn.layers.globalAvgPool(),
        nn.layers.flatten(),
        nn.layers.dense({ units: 5 }),
        nn.layers.softmax(),
      ],
      { inputShape: [4, 9, 9], seed: 3 },
    );
    put(k('Sequential.predictSync'), model.predictSync(x));
    put(k('Sequential.predict'), await model.predict(x));
    model.dispose();
  }
  const d = nn.diagnostics();
  return { arch: d.arch, features: d.cpu.features, cores: d.backends.filter((b) => b.core).map((b) => `${b.name}:${b.core}`), flavour: d.build.flavour, results: out, errors: nativeErrors() };
}

// C++ exceptions thrown and caught inside the addon (libstdc++ is linked in
// statically): the raw binding, called with lying sizes, must throw a JS
// error, not terminate.
function nativeErrors() {
  const { binding } = require(require('path').join(require('path').dirname(require.resolve('neonn')), 'native.js'));
  const f = (n) => new Float32Array(n);
  const got = [];
  for (const call of [
    () => binding.gemmSync(f(6), f(12), null, f(8), 20, 30, 30, 40, 1, 1, 0, 1, 1),
    () => binding.gemm(f(6), f(12), null, f(8), 2 ** 40, 3, 3, 4, 1, 1, 0, 1, 1),
  ]) {
    try {
      call();
      got.push('no error');
    } catch (err) {
      got.push(`${err.name}: ${err.message}`);
    }
  }
  return got;
}

run().then(
  (r) => process.stdout.write(JSON.stringify(r)),
  (err) => {
    console.error(err && err.stack ? err.stack : String(err));
    process.exit(1);
  },
);
