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
