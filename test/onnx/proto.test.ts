// TensorProto decoding paths the conformance data does not all exercise:
// typed fields, unaligned raw_data, scalars, int64, wrong sizes and types.
import { attrFloat, attrInt, attrInts, attrString, intsFromProto, onnx, tensorFromProto } from '../../lib/onnx/proto';

const DT = onnx.TensorProto.DataType;

/** Encode then decode, so raw_data sits inside a larger buffer as in real files. */
function roundTrip(t: onnx.ITensorProto): onnx.TensorProto {
  return onnx.TensorProto.decode(onnx.TensorProto.encode(onnx.TensorProto.create(t)).finish());
}

function rawBytes(bytesPerElement: number, values: number[], write: (v: DataView, o: number, x: number) => void): Uint8Array {
  const v = new DataView(new ArrayBuffer(values.length * bytesPerElement));
  values.forEach((x, i) => write(v, i * bytesPerElement, x));
  return new Uint8Array(v.buffer);
}

describe('tensorFromProto', () => {
  test('float raw_data at an odd offset, little-endian', () => {
    const raw = rawBytes(4, [1.5, -2, 3.25, 0], (v, o, x) => v.setFloat32(o, x, true));
    const t = roundTrip({ name: 'x', dims: [2, 2], dataType: DT.FLOAT, rawData: raw });
    const y = tensorFromProto(t);
    expect([...y.shape]).toEqual([2, 2]);
    expect([...y.data]).toEqual([1.5, -2, 3.25, 0]);
  });

  test('float_data', () => {
    const y = tensorFromProto(roundTrip({ dims: [3], dataType: DT.FLOAT, floatData: [1, 2, 3] }));
    expect([...y.data]).toEqual([1, 2, 3]);
  });

  test('double raw_data and double_data round to float32', () => {
    const raw = rawBytes(8, [0.1, 1e300], (v, o, x) => v.setFloat64(o, x, true));
    expect([...tensorFromProto(roundTrip({ dims: [2], dataType: DT.DOUBLE, rawData: raw })).data]).toEqual([Math.fround(0.1), Infinity]);
    expect([...tensorFromProto(roundTrip({ dims: [1], dataType: DT.DOUBLE, doubleData: [0.1] })).data]).toEqual([Math.fround(0.1)]);
  });

  test('dims [] is a scalar', () => {
    const y = tensorFromProto(roundTrip({ dims: [], dataType: DT.FLOAT, floatData: [7] }));
    expect([...y.shape]).toEqual([]);
    expect([...y.data]).toEqual([7]);
  });

  test('a size that disagrees with dims is a RangeError', () => {
    expect(() => tensorFromProto(roundTrip({ dims: [3], dataType: DT.FLOAT, floatData: [1, 2] }))).toThrow(/float_data has 2 values, dims \[3\] need 3/);
    expect(() => tensorFromProto(roundTrip({ dims: [2], dataType: DT.FLOAT, rawData: new Uint8Array(7) }))).toThrow(/raw_data has 7 bytes/);
  });

  test('another data type is a TypeError', () => {
    expect(() => tensorFromProto(roundTrip({ name: 'i', dims: [1], dataType: DT.INT64, int64Data: [1] }))).toThrow(/tensor "i": expected FLOAT or DOUBLE data, got INT64/);
  });
});

describe('intsFromProto', () => {
  test('int64 raw_data, int64_data, int32_data', () => {
    const raw = rawBytes(8, [-1, 3, 2 ** 40], (v, o, x) => v.setBigInt64(o, BigInt(x), true));
    expect(intsFromProto(roundTrip({ dims: [3], dataType: DT.INT64, rawData: raw }))).toEqual([-1, 3, 2 ** 40]);
    expect(intsFromProto(roundTrip({ dims: [2], dataType: DT.INT64, int64Data: [5, -6] }))).toEqual([5, -6]);
    expect(intsFromProto(roundTrip({ dims: [2], dataType: DT.INT32, int32Data: [5, -6] }))).toEqual([5, -6]);
  });

  test('an int64 beyond 2^53 is a RangeError', () => {
    const raw = rawBytes(8, [0], (v, o) => v.setBigInt64(o, 2n ** 60n, true));
    expect(() => intsFromProto(roundTrip({ dims: [1], dataType: DT.INT64, rawData: raw }))).toThrow(/not a safe JS integer/);
  });
});

describe('attributes', () => {
  const AT = onnx.AttributeProto.AttributeType;
  const node = onnx.NodeProto.decode(
    onnx.NodeProto.encode(
      onnx.NodeProto.create({
        opType: 'Pad',
        attribute: [
          { name: 'pads', type: AT.INTS, ints: [0, 1, 0, 1] },
          { name: 'value', type: AT.FLOAT, f: 0.5 },
          { name: 'mode', type: AT.STRING, s: Buffer.from('constant') },
          { name: 'axis', type: AT.INT, i: -1 },
        ],
      }),
    ).finish(),
  );

  test('read with their types, defaults when absent', () => {
    expect(attrInts(node, 'pads')).toEqual([0, 1, 0, 1]);
    expect(attrFloat(node, 'value', 0)).toBe(0.5);
    expect(attrString(node, 'mode', 'reflect')).toBe('constant');
    expect(attrInt(node, 'axis', 0)).toBe(-1);
    expect(attrInt(node, 'missing', 3)).toBe(3);
    expect(attrInts(node, 'missing')).toBeUndefined();
  });

  test('an attribute of another type is a TypeError', () => {
    expect(() => attrInt(node, 'value', 0)).toThrow(/Pad node: attribute "value" has type FLOAT, expected INT/);
  });
});
