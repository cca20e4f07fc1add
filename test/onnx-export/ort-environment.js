// Jest environment for suites that call onnxruntime-node. ORT's native binding
// creates its output typed arrays in Node's main realm, and onnxruntime-common
// (loaded inside jest's sandbox) then rejects them with `instanceof
// Float32Array`. Giving the sandbox the main realm's typed-array and
// ArrayBuffer constructors makes both sides agree.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
  'Float32Array', 'Float64Array', 'Int8Array', 'Int16Array', 'Int32Array', 'BigInt64Array',
  'Uint8Array', 'Uint8ClampedArray', 'Uint16Array', 'Uint32Array', 'BigUint64Array',
];

class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = OrtEnvironment;
