// The elementwise, normalization and layout ops are in the op table, so a
// compiled model (NeonnProgram) runs them with the same decoders as nn.*:
// concat (a buffer list) -> relu in place -> softmax, checked against nn.*.
import * as nn from '../../lib';
import { binding } from '../../lib/native';
import { expectClose, randomTensor } from '../helpers';

interface Ref {
  kind: number; // 0 const, 1 arena, 2 input, 3 output
  index: number;
  offset: number;
  size: number;
}
type ProgramCtor = new (spec: object) => {
  runSync(inputs: Float32Array[], outputs: Float32Array[]): void;
  run(inputs: Float32Array[], outputs: Float32Array[]): Promise<void>;
  dispose(): void;
};
const NeonnProgram = (binding as unknown as { NeonnProgram: ProgramCtor }).NeonnProgram;
const ref = (kind: number, offset: number, size: number, index = 0): Ref => ({ kind, index, offset, size });

describe('a native program of the new ops', () => {
  const x = randomTensor([2, 3], 1);
  const c = randomTensor([2, 3], 2);
  const want = nn.softmax(nn.relu(nn.concat([x, c], 1)));
  const arena = ref(1, 0, 12);
  const spec = {
    consts: [c.data],
    arenaSize: 12,
    inputSizes: [6],
    outputSizes: [12],
    steps: [
      { op: 'concat', args: [[ref(2, 0, 6), ref(0, 0, 6)], arena, 1, 2, 2, 3, 2, 3] },
      { op: 'unary', args: [arena, arena, 0, 0, 0, 0] },
      { op: 'softmax', args: [arena, ref(3, 0, 12), 0, -1, 2, 2, 6] },
    ],
  };

  test('runSync and run match nn.concat -> nn.relu -> nn.softmax', async () => {
    const p = new NeonnProgram(spec);
    const out = new Float32Array(12);
    p.runSync([x.data], [out]);
    expectClose(out, want.data);
    const out2 = new Float32Array(12);
    await p.run([x.data], [out2]);
    expectClose(out2, want.data);
    p.dispose();
  });

  test('a step whose shapes lie is refused when it runs, naming the step', () => {
    const bad = { ...spec, steps: [{ op: 'transpose', label: 'tr', args: [ref(2, 0, 6), ref(3, 0, 12), 2, 3, 4, 1, 0] }] };
    const p = new NeonnProgram(bad);
    let thrown: unknown;
    try {
      p.runSync([x.data], [new Float32Array(12)]);
    } catch (e) {
      thrown = e;
    }
    expect((thrown as Error).name).toBe('RangeError');
    expect((thrown as Error).message).toMatch(/model: step 0 \(tr\): transpose: x has 6 elements, shape \[3,4\] needs 12/);
    p.dispose();
  });

  test.each([
    ['a ref outside its buffer', { steps: [{ op: 'unary', args: [ref(2, 0, 7), ref(3, 0, 12), 0, 0, 0, 0] }] }, 'RangeError', /model: step 0 \(unary\): buffer \[0, \+7\) is outside its 6 floats/],
    ['a constant that does not exist', { steps: [{ op: 'unary', args: [ref(0, 0, 6, 5), ref(3, 0, 6), 0, 0, 0, 0] }] }, 'RangeError', /constant 5 does not exist/],
    ['an unknown op', { steps: [{ op: 'fft', args: [] }] }, 'RangeError', /model: unknown op "fft" in step 0/],
    ['a list holding a non-ref', { steps: [{ op: 'concat', args: [[ref(2, 0, 6), 3], arena, 1] }] }, 'TypeError', /a buffer ref must be an object/],
    ['a string argument', { steps: [{ op: 'unary', args: ['x'] }] }, 'TypeError', /a step argument must be null, a number, a buffer ref or a list of refs/],
  ])('a hostile spec is refused when built: %s', (_label, patch, name, message) => {
    let thrown: unknown;
    try {
      new NeonnProgram({ ...spec, ...patch });
    } catch (e) {
      thrown = e;
    }
    expect((thrown as Error).name).toBe(name);
    expect((thrown as Error).message).toMatch(message as RegExp);
  });
});
