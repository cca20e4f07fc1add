// nn.diagnostics() lists, per loaded model, each step and the backend that runs it.
import * as path from 'path';

import * as nn from '../../lib';

const squeezenet = path.resolve(__dirname, '..', '..', '..', 'shared', 'onnx-conformance', 'models', 'squeezenet.onnx');

test('a loaded model shows up with its layers and their backends; a disposed one does not', async () => {
  const before = nn.diagnostics().models.length;
  nn.setBackend('openblas');
  const m = await nn.loadOnnx(squeezenet);
  const d = nn.diagnostics();
  expect(d.models.length).toBe(before + 1);
  const entry = d.models[d.models.length - 1];
  expect(entry.inputNames).toEqual(m.inputNames);
  const convs = entry.layers.filter((l) => l.kernels.includes('conv2d'));
  expect(convs.length).toBeGreaterThan(10);
  for (const c of convs) expect(c.backend).toBe('openblas');
  // Pooling falls back to reference: the listing says so.
  expect(entry.layers.some((l) => l.kernels.includes('pool2d') && l.backend === 'reference')).toBe(true);
  m.dispose();
  expect(nn.diagnostics().models.length).toBe(before);
});

test('memory: RSS, and the C heap in use, which follows a native allocation and its release', () => {
  const d = nn.diagnostics();
  expect(d.memory.rss).toBeGreaterThan(0);
  expect(d.memory.mallocInUse).toBeGreaterThan(0); // glibc: every target neonn builds for
  // A 64 MB native buffer (a Float32Array's store comes from the C heap) moves it.
  let big: Float32Array | null = new Float32Array(16 * 2 ** 20).fill(1);
  const held = nn.diagnostics().memory.mallocInUse as number;
  expect(held - (d.memory.mallocInUse as number)).toBeGreaterThan(60 * 2 ** 20);
  expect(big[big.length - 1]).toBe(1);
  big = null;
  void big;
});
