// Sequential: shape inference, folding/fusion, native forward pass vs the
// same network op by op, save/load round trips, bad files, async behaviour.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as nn from '../../lib';
import { availableBackends, expectClose, randomTensor, reportUnavailable } from '../helpers';

const backends = availableBackends();
reportUnavailable('Sequential');
afterAll(() => nn.setBackend(backends[0]));

function lenet(seed = 3): nn.Sequential {
  return new nn.Sequential(
    [
      nn.layers.conv2d({ filters: 6, kernel: 5, pads: 2, activation: 'relu' }),
      nn.layers.maxPool2d({ kernel: 2, strides: 2 }),
      nn.layers.conv2d({ filters: 16, kernel: 5 }),
      nn.layers.relu(),
      nn.layers.maxPool2d({ kernel: 2, strides: 2 }),
      nn.layers.flatten(),
      nn.layers.dense({ units: 120, activation: 'relu' }),
      nn.layers.dense({ units: 84, activation: 'relu' }),
      nn.layers.dense({ units: 10 }),
      nn.layers.softmax(),
    ],
    { inputShape: [1, 28, 28], seed },
  );
}

function vggStyle(seed = 5): nn.Sequential {
  return new nn.Sequential(
    [
      nn.layers.conv2d({ filters: 8, kernel: 3, pads: 1 }),
      nn.layers.batchNorm(),
      nn.layers.relu(),
      nn.layers.conv2d({ filters: 8, kernel: 3, pads: 1, activation: 'relu' }),
      nn.layers.maxPool2d({ kernel: 2, strides: 2 }),
      nn.layers.conv2d({ filters: 16, kernel: 3, pads: 1 }),
      nn.layers.batchNorm({ epsilon: 1e-3 }),
      nn.layers.relu(),
      nn.layers.maxPool2d({ kernel: 2, strides: 2 }),
      nn.layers.flatten(),
      nn.layers.dropout({ rate: 0.5 }),
      nn.layers.dense({ units: 32, activation: 'relu' }),
      nn.layers.dense({ units: 10 }),
    ],
    { inputShape: [3, 16, 16], seed },
  );
}

/** The same network through the public ops, one layer at a time, nothing folded or fused. */
function opByOp(model: nn.Sequential, x: nn.Tensor): nn.Tensor {
  let t: nn.Tensor = x;
  for (const l of model.layers) {
    const c = l.config as Record<string, never>;
    const w = l.weights;
    switch (l.type) {
      case 'conv2d':
        t = nn.conv2d(t, w.w, { bias: w.b, strides: c.strides, pads: c.pads, dilations: c.dilations, group: c.group, activation: c.activation });
        break;
      case 'dense':
        t = nn.fullyConnected(t, w.w, { bias: w.b });
        if (c.activation === 'relu') t = nn.relu(t);
        break;
      case 'maxPool2d':
        t = nn.maxPool2d(t, c as never);
        break;
      case 'batchNorm':
        t = nn.batchNorm(t, { scale: w.scale, bias: w.bias, mean: w.mean, variance: w.variance, epsilon: c.epsilon });
        break;
      case 'relu':
        t = nn.relu(t);
        break;
      case 'softmax':
        t = nn.softmax(t, { axis: c.axis });
        break;
      case 'flatten':
        t = nn.flatten(t, 1);
        break;
      case 'dropout':
        break;
      default:
        throw new Error(`opByOp: ${l.type} not covered`);
    }
  }
  return t;
}

describe('shape inference', () => {
  test('output shapes of LeNet and a VGG-style stack', () => {
    expect(lenet().outputShape).toEqual([10]);
    expect(vggStyle().outputShape).toEqual([10]);
  });

  test('layers that do not fit name the layer and say why', () => {
    const bad = (): unknown => new nn.Sequential([nn.layers.flatten(), nn.layers.conv2d({ filters: 4, kernel: 3 })], { inputShape: [3, 8, 8] });
    expect(bad).toThrow(RangeError);
    expect(bad).toThrow(/Sequential: layer 1 \(conv2d\): .*4-D input \[N,C,H,W\], got \[1,192\]/);
    const tooSmall = (): unknown => new nn.Sequential([nn.layers.conv2d({ filters: 4, kernel: 5 })], { inputShape: [3, 3, 3] });
    expect(tooSmall).toThrow(/Sequential: layer 0 \(conv2d\): conv2d: kernel extent along H/);
    const group = (): unknown => new nn.Sequential([nn.layers.conv2d({ filters: 4, kernel: 1, group: 2 })], { inputShape: [3, 4, 4] });
    expect(group).toThrow(/Sequential: layer 0 \(conv2d\): .*divisible by group/);
  });

  test('bad layer configs and options are TypeError/RangeError', () => {
    expect(() => nn.layers.conv2d({ filters: 0, kernel: 3 })).toThrow(/layers.conv2d: "filters" must be a positive integer, got 0/);
    expect(() => nn.layers.conv2d({ filters: 2, kernel: 3, stride: 2 } as never)).toThrow(TypeError);
    expect(() => nn.layers.dense({ units: 2.5 })).toThrow(RangeError);
    expect(() => nn.layers.dropout({ rate: 1 })).toThrow(/"rate" must be in \[0, 1\), got 1/);
    expect(() => new nn.Sequential([{} as never], { inputShape: [3] })).toThrow(/expected "layers\[0\]" to be a layer from nn.layers/);
    expect(() => new nn.Sequential([], { inputShape: [0, 3] })).toThrow(/"inputShape\[0\]" must be a positive integer, got 0/);
    expect(() => nn.layers.conv2d({ filters: 2, kernel: 3, weights: { w: randomTensor([2, 3, 3, 3], 1) } })).not.toThrow();
    expect(() => new nn.Sequential([nn.layers.conv2d({ filters: 2, kernel: 3, weights: { w: randomTensor([2, 4, 3, 3], 1) } })], { inputShape: [3, 8, 8] })).toThrow(
      /Sequential: layer 0 \(conv2d\): conv2d: weights.w must have shape \[2,3,3,3\], got \[2,4,3,3\]/,
    );
  });
});

describe.each(backends)('forward pass on %s', (backend) => {
  beforeAll(() => nn.setBackend(backend));

  test('LeNet x=[2,1,28,28]: predictSync equals the op-by-op network', () => {
    const m = lenet();
    const x = randomTensor([2, 1, 28, 28], 11);
    const y = m.predictSync(x);
    expect(y.shape).toEqual([2, 10]);
    expectClose(y.data, opByOp(m, x).data, 1e-4, 1e-5);
    m.dispose();
  });

  test('VGG-style x=[1,3,16,16]: batch-norm folded and relu fused give the same result', () => {
    const m = vggStyle();
    const x = randomTensor([1, 3, 16, 16], 12);
    expectClose(m.predictSync(x).data, opByOp(m, x).data, 1e-4, 1e-4);
    m.dispose();
  });

  test('predict (async) equals predictSync; the input is left untouched', async () => {
    const m = vggStyle();
    const x = randomTensor([1, 3, 16, 16], 13);
    const copy = x.data.slice();
    const a = m.predictSync(x);
    const b = await m.predict(x);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect(Array.from(x.data)).toEqual(Array.from(copy));
    m.dispose();
  });
});

describe('runner behaviour', () => {
  test('20 concurrent predicts on one model all come back right', async () => {
    const m = lenet();
    const xs = Array.from({ length: 20 }, (_, i) => randomTensor([1, 1, 28, 28], 100 + i));
    const want = xs.map((x) => m.predictSync(x).data);
    const got = await Promise.all(xs.map((x) => m.predict(x)));
    got.forEach((y, i) => expect(Array.from(y.data)).toEqual(Array.from(want[i])));
    m.dispose();
  });

  test('predict does not block the event loop', async () => {
    const m = vggStyle();
    const x = randomTensor([4, 3, 16, 16], 1);
    m.predictSync(x); // compile first: compiling is synchronous
    let ticked = false;
    setImmediate(() => {
      ticked = true;
    });
    await m.predict(x);
    expect(ticked).toBe(true);
    m.dispose();
  });

  test('peak memory is weights + about the two largest live activations', () => {
    const m = vggStyle();
    m.predictSync(randomTensor([1, 3, 16, 16], 1));
    const weightBytes = m.layers.reduce((s, l) => s + Object.values(l.weights).reduce((a, w) => a + w.size * 4, 0), 0);
    // Largest activations of this stack: 8x16x16 twice (conv1 -> conv2).
    const twoLargest = 2 * 8 * 16 * 16 * 4;
    expect(m.memoryBytes()).toBeGreaterThan(weightBytes);
    expect(m.memoryBytes()).toBeLessThanOrEqual(weightBytes + twoLargest + 4 * 64 * 4 * 8);
    m.dispose();
  });

  test('dispose frees native memory and later calls throw', async () => {
    const m = lenet();
    m.predictSync(randomTensor([1, 1, 28, 28], 1));
    expect(m.memoryBytes()).toBeGreaterThan(0);
    m.dispose();
    expect(m.memoryBytes()).toBe(0);
    expect(() => m.predictSync(randomTensor([1, 1, 28, 28], 1))).toThrow(/the model was disposed/);
    await expect(m.predict(randomTensor([1, 1, 28, 28], 1))).rejects.toMatchObject({ code: 'ERR_NEONN_DISPOSED' });
  });

  test('wrong input shapes are RangeErrors', () => {
    const m = lenet();
    expect(() => m.predictSync(randomTensor([1, 3, 28, 28], 1))).toThrow(/predictSync: "x" must have shape \[N,1,28,28\], got \[1,3,28,28\]/);
    expect(() => m.predictSync(randomTensor([28, 28], 1))).toThrow(RangeError);
    m.dispose();
  });

  test('the same seed builds the same model; another seed another', () => {
    const x = randomTensor([1, 1, 28, 28], 9);
    const a = lenet(3).predictSync(x);
    const b = lenet(3).predictSync(x);
    const c = lenet(4).predictSync(x);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
  });
});

describe('saveModel / loadModel', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-model-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each([
    ['LeNet', lenet, [2, 1, 28, 28]],
    ['VGG-style', vggStyle, [1, 3, 16, 16]],
  ] as const)('%s round-trips with identical outputs', async (_name, make, shape) => {
    const m = make();
    const x = randomTensor([...shape], 21);
    const before = m.predictSync(x);
    await nn.saveModel(m, dir);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('neonn-sequential');
    expect(json.version).toBe(1);
    const m2 = await nn.loadModel(dir);
    expect(m2.outputShape).toEqual(m.outputShape);
    expect(Array.from(m2.predictSync(x).data)).toEqual(Array.from(before.data));
    m.dispose();
    m2.dispose();
  });

  async function saved(): Promise<void> {
    await nn.saveModel(lenet(), dir);
  }

  test('a truncated weights file is a clear error', async () => {
    await saved();
    const bin = path.join(dir, 'weights.bin');
    fs.truncateSync(bin, fs.statSync(bin).size - 7);
    await expect(nn.loadModel(dir)).rejects.toThrow(/loadModel: weights.bin has \d+ bytes, model.json says \d+ \(truncated/);
  });

  test('wrong format, version, JSON, offsets and shapes are clear errors', async () => {
    await saved();
    const file = path.join(dir, 'model.json');
    const orig = JSON.parse(fs.readFileSync(file, 'utf8'));
    const write = (j: unknown): void => fs.writeFileSync(file, typeof j === 'string' ? j : JSON.stringify(j));
    write({ ...orig, format: 'onnx' });
    await expect(nn.loadModel(dir)).rejects.toThrow(/is not a neonn model \(format "onnx"/);
    write({ ...orig, version: 99 });
    await expect(nn.loadModel(dir)).rejects.toThrow(/model version 99 is not supported/);
    write('{ not json');
    await expect(nn.loadModel(dir)).rejects.toThrow(/is not valid JSON/);
    const far = JSON.parse(JSON.stringify(orig));
    far.layers[0].weights.w.offset = orig.weightsBytes;
    write(far);
    await expect(nn.loadModel(dir)).rejects.toThrow(/layers\[0\].weights.w lies outside weights.bin/);
    const lying = JSON.parse(JSON.stringify(orig));
    lying.layers[0].weights.w.shape = [6, 1, 5, 4];
    write(lying);
    await expect(nn.loadModel(dir)).rejects.toThrow(/shape \[6,1,5,4\] needs 120 elements, length says 150/);
    const escape = { ...orig, weightsFile: '../../etc/passwd' };
    write(escape);
    await expect(nn.loadModel(dir)).rejects.toThrow(/weightsFile must be a plain file name/);
    const unknown = JSON.parse(JSON.stringify(orig));
    unknown.layers[1].type = 'maxpool';
    write(unknown);
    await expect(nn.loadModel(dir)).rejects.toThrow(/unknown layer type "maxpool"/);
  });
});
