// Broken quantization parameters are clear errors at load that name the node
// (issue 12): a scale of 0, NaN or negative, a zero point outside its type,
// per-axis sizes that do not match, and a zero point of the other 8-bit type.
import * as nn from '../../lib';
import { onnx } from '../../lib/onnx/proto';

const DT = onnx.TensorProto.DataType;

/** x (float [1,3,2,2]) → QuantizeLinear "quant0" (s, z) → DequantizeLinear "dq0" (s, z2) → y. */
function model(o: { scale?: number[]; scaleDims?: number[]; zp?: number[]; zpType?: number; dqZpType?: number; axis?: number }): Uint8Array {
  const scale = o.scale ?? [0.5];
  const dims = o.scaleDims ?? (scale.length === 1 ? [] : [scale.length]);
  const zp = o.zp ?? scale.map(() => 0);
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'g',
        node: [
          { opType: 'QuantizeLinear', input: ['x', 's', 'z'], output: ['q'], name: 'quant0', attribute: o.axis === undefined ? [] : [{ name: 'axis', type: 2, i: o.axis }] },
          { opType: 'DequantizeLinear', input: ['q', 's', 'z2'], output: ['y'], name: 'dq0', attribute: o.axis === undefined ? [] : [{ name: 'axis', type: 2, i: o.axis }] },
        ],
        input: [{ name: 'x', type: { tensorType: { elemType: DT.FLOAT, shape: { dim: [1, 3, 2, 2].map((d) => ({ dimValue: d })) } } } }],
        output: [{ name: 'y', type: { tensorType: { elemType: DT.FLOAT } } }],
        initializer: [
          { name: 's', dims, dataType: DT.FLOAT, floatData: scale },
          { name: 'z', dims, dataType: o.zpType ?? DT.UINT8, int32Data: zp },
          { name: 'z2', dims, dataType: o.dqZpType ?? o.zpType ?? DT.UINT8, int32Data: zp.map((v) => Math.max(-128, Math.min(127, v))) },
        ],
      },
    }),
  ).finish();
}

function loadError(bytes: Uint8Array): NodeJS.ErrnoException {
  try {
    nn.loadOnnxSync(bytes);
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  throw new Error('loaded without an error');
}

test('a well-formed pair loads and round-trips', () => {
  const m = nn.loadOnnxSync(model({}));
  const y = m.runSync({ x: nn.tensor(Float32Array.from([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5]), [1, 3, 2, 2]) }).y;
  expect(Array.from(y.data)).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5]);
  m.dispose();
});

test.each([
  ['a scale of 0', { scale: [0] }, /QuantizeLinear node #0 "quant0": y_scale must be positive and finite, got 0/],
  ['a NaN scale', { scale: [NaN] }, /"quant0": y_scale must be positive and finite, got NaN/],
  ['a negative scale', { scale: [-1] }, /"quant0": y_scale must be positive and finite, got -1/],
  ['a uint8 zero point of 300', { zp: [300] }, /QuantizeLinear node #0 "quant0".*tensor "z": int32_data\[0\] = 300 is out of range for UINT8 \[0, 255\]/],
  ['an int8 zero point of -129', { zp: [-129], zpType: DT.INT8 }, /"quant0".*int32_data\[0\] = -129 is out of range for INT8 \[-128, 127\]/],
  ['per-axis scales for 2 channels of 3', { scale: [0.5, 0.5], axis: 1 }, /"quant0": y_scale of shape \[2\] must be a scalar or 1-D with 3 elements/],
  ['a DequantizeLinear zero point of the other 8-bit type', { dqZpType: DT.INT8 }, /DequantizeLinear node #1 "dq0": the zero point of x_scale must be uint8, got int8/],
])('%s: ERR_NEONN_ONNX_INVALID at load, naming the node', (_what, o, message) => {
  const e = loadError(model(o));
  expect(e.code).toBe('ERR_NEONN_ONNX_INVALID');
  expect(e.message).toMatch(message);
});
