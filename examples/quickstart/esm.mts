// Quick start for an ES module (package.json "type": "module", or a .mts file):
// top-level await works here.
import * as nn from 'neonn';

const model = new nn.Sequential([
  nn.layers.conv2d({ filters: 16, kernel: 3, pads: 1 }),
  nn.layers.batchNorm(),                          // folded into the conv when compiled
  nn.layers.relu(),                               // fused into the conv
  nn.layers.maxPool2d({ kernel: 2, strides: 2 }),
  nn.layers.flatten(),
  nn.layers.dense({ units: 10 }),
  nn.layers.softmax(),
], { inputShape: [3, 32, 32], seed: 42 });        // weights: given, or seeded random

const x = nn.tensor(new Float32Array(3 * 32 * 32).fill(0.5), [1, 3, 32, 32]); // zero-copy
const y = await model.predict(x);                 // whole forward pass on the libuv pool
console.log(nn.getBackend(), y.shape);            // auto [ 1, 10 ]
await nn.saveModel(model, '/tmp/neonn-quickstart-esm-model');
const again = await nn.loadModel('/tmp/neonn-quickstart-esm-model');
console.log(again.predictSync(x).data[0] === y.data[0]); // true
