// The data kernels called straight through the binding, past the schema's
// checks: each re-checks what it relies on (output shapes and dtypes, index
// ranges, counts) and throws a RangeError instead of touching memory it does
// not own.
import { DTYPE_CODE, DType, TypedData } from '../../lib/dtype';
import { NativeTensor, binding } from '../../lib/native';
import { expectNativeThrows } from '../native-errors';
import { typed } from './data-helpers';

const t = (dtype: DType, vals: number[], shape: number[]): NativeTensor => ({ data: typed(dtype, vals) as TypedData, shape, dtype: DTYPE_CODE[dtype] });
const zeros = (dtype: DType, shape: number[]): NativeTensor => t(dtype, new Array(Math.max(1, shape.reduce((a, b) => a * b, 1))).fill(0), shape);
const call = (name: string, ins: (NativeTensor | null)[], outs: NativeTensor[], attrs: Record<string, number | number[] | string> = {}) => () => binding.kernelSync(name, ins, outs, attrs);

test('every data kernel is registered', () => {
  const names = binding.kernelNames();
  for (const op of ['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Expand', 'Tile', 'ConstantOfShape', 'Range', 'Concat', 'Split', 'Slice', 'Pad', 'DepthToSpace', 'SpaceToDepth', 'Gather', 'GatherElements', 'GatherND', 'ScatterND', 'ScatterElements', 'OneHot', 'Trilu']) {
    expect(names).toContain(op);
  }
});

test('a wrong output shape or dtype is a RangeError', () => {
  const x = t('float32', [1, 2, 3, 4, 5, 6], [2, 3]);
  expectNativeThrows(call('Transpose', [x], [zeros('float32', [2, 3])]), RangeError, /Transpose: output 0 must have shape \[3,2\], got \[2,3\]/);
  expectNativeThrows(call('Transpose', [x], [zeros('int32', [3, 2])]), RangeError, /Transpose: output must be float32, got int32/);
  expectNativeThrows(call('Reshape', [x, t('int64', [3, 2], [2])], [zeros('float32', [2, 3])]), RangeError, /Reshape: output 0 must have shape \[3,2\]/);
  expectNativeThrows(call('Slice', [x, t('int64', [0], [1]), t('int64', [1], [1])], [zeros('float32', [2, 3])]), RangeError, /Slice: output 0 must have shape \[1,3\]/);
  expectNativeThrows(call('Concat', [x, x], [zeros('float32', [2, 3])], { axis: 0 }), RangeError, /Concat: output 0 must have shape \[4,3\]/);
  expectNativeThrows(call('Split', [x, t('int64', [1, 1], [2])], [zeros('float32', [1, 3]), zeros('float32', [1, 2])]), RangeError, /Split: output 1 must have shape \[1,3\]/);
  expectNativeThrows(call('Pad', [x, t('int64', [0, 1, 0, 1], [4])], [zeros('float32', [2, 3])], { mode: 'constant' }), RangeError, /Pad: output 0 must have shape \[2,5\]/);
  expectNativeThrows(call('Tile', [x, t('int64', [2, 2], [2])], [zeros('float32', [4, 3])]), RangeError, /Tile: output 0 must have shape \[4,6\]/);
});

test('indices out of range are RangeErrors in the kernel too', () => {
  const x = t('float32', [1, 2, 3, 4, 5, 6], [2, 3]);
  expectNativeThrows(call('Gather', [x, t('int64', [-3], [1])], [zeros('float32', [1, 3])]), RangeError, /Gather: index -3 is out of range for a dimension of 2/);
  expectNativeThrows(call('GatherElements', [x, t('int32', [0, 0, 7], [1, 3])], [zeros('float32', [1, 3])], { axis: 0 }), RangeError, /index 7 is out of range/);
  expectNativeThrows(call('GatherND', [x, t('int64', [1, 3], [1, 2])], [zeros('float32', [1])]), RangeError, /index 3 is out of range/);
  expectNativeThrows(call('ScatterND', [x, t('int64', [2], [1, 1]), t('float32', [0, 0, 0], [1, 3])], [zeros('float32', [2, 3])], { reduction: 'none' }), RangeError, /index 2 is out of range/);
  expectNativeThrows(call('ScatterElements', [x, t('int64', [9], [1, 1]), t('float32', [0], [1, 1])], [zeros('float32', [2, 3])], { axis: 1, reduction: 'add' }), RangeError, /index 9 is out of range/);
});

test('inconsistent inputs are RangeErrors', () => {
  const x = t('float32', [1, 2, 3, 4, 5, 6], [2, 3]);
  expectNativeThrows(call('Concat', [x, t('int32', [1, 2, 3], [1, 3])], [zeros('float32', [3, 3])], { axis: 0 }), RangeError, /Concat: every input must be float32, got int32/);
  expectNativeThrows(call('Range', [t('float32', [0], []), t('float32', [1e12], []), t('float32', [1e-3], [])], [zeros('float32', [1])]), RangeError, /Range: the range has too many elements/);
  expectNativeThrows(call('Range', [t('int64', [0], []), t('int64', [5], []), t('int64', [0], [])], [zeros('int64', [1])]), RangeError, /delta must not be 0/);
  expectNativeThrows(call('Pad', [x, t('int64', [0, 2 ** 40, 0, 0], [4])], [zeros('float32', [1])], { mode: 'constant' }), RangeError, /Pad: pads .* are out of range/);
  expectNativeThrows(call('Reshape', [x, t('int64', [-1, 0], [2])], [zeros('float32', [2, 3])], { allowzero: 1 }), RangeError, /both -1 and 0/);
  expectNativeThrows(call('ConstantOfShape', [t('int64', [2], [1])], [zeros('float32', [2])], { dtype: 5, value: 0 }), RangeError, /dtype 5 is not supported/);
  expectNativeThrows(call('Trilu', [x, t('int32', [0], [])], [zeros('float32', [2, 3])]), RangeError, /Trilu: k must be int64, got int32/);
  expectNativeThrows(call('Split', [x], [], { axis: 0 }), RangeError, /Split: needs at least one output/);
  const img = t('float32', [1, 2, 3, 4], [1, 4, 1, 1]);
  expectNativeThrows(call('DepthToSpace', [img], [zeros('float32', [1])], { blocksize: 2 ** 32, mode: 'DCR' }), RangeError, /DepthToSpace: size overflows/);
  expectNativeThrows(call('SpaceToDepth', [img], [zeros('float32', [1])], { blocksize: 3 }), RangeError, /must be multiples of blocksize 3/);
});
