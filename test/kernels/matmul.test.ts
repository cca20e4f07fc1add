// MatMul and Einsum. MatMul: numpy broadcasting of the batch dims and 1-D promotion, against a
// plain-JS triple loop; ONNX's node tests; errors.
import * as nn from '../../lib';
import { expectNodeCase, haveTestdata } from './onnx-node';

function rand(shape: number[], seed = 1): nn.Tensor {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    d[i] = (s / 2147483648) * 2 - 1;
  }
  return nn.tensor(d, shape);
}
function refMatMul(a: nn.Tensor, b: nn.Tensor): { data: number[]; shape: number[] } {
  const as = a.shape.length === 1 ? [1, a.shape[0]] : [...a.shape];
  const bs = b.shape.length === 1 ? [b.shape[0], 1] : [...b.shape];
  const m = as[as.length - 2], k = as[as.length - 1], n = bs[bs.length - 1];
  const ab = as.slice(0, -2), bb = bs.slice(0, -2), r = Math.max(ab.length, bb.length);
  const pa = [...new Array(r - ab.length).fill(1), ...ab], pb = [...new Array(r - bb.length).fill(1), ...bb];
  const batch = pa.map((x, i) => Math.max(x, pb[i]));
  const nb = batch.reduce((x, y) => x * y, 1);
  const out: number[] = [];
  for (let i = 0; i < nb; i++) {
    let rem = i, ai = 0, bi = 0, am = 1, bm = 1;
    for (let d = r - 1; d >= 0; d--) {
      const idx = rem % batch[d];
      rem = Math.floor(rem / batch[d]);
      ai += (pa[d] === 1 ? 0 : idx) * am;
      bi += (pb[d] === 1 ? 0 : idx) * bm;
      am *= pa[d];
      bm *= pb[d];
    }
    for (let x = 0; x < m; x++) for (let y = 0; y < n; y++) {
      let acc = 0;
      for (let z = 0; z < k; z++) acc += a.data[ai * m * k + x * k + z] * b.data[bi * k * n + z * n + y];
      out.push(acc);
    }
  }
  const shape = [...batch];
  if (a.shape.length > 1) shape.push(m);
  if (b.shape.length > 1) shape.push(n);
  return { data: out, shape };
}

(haveTestdata ? describe : describe.skip)('ONNX node tests', () => {
  test.each(['test_matmul_2d', 'test_matmul_3d', 'test_matmul_4d'])('%s', (name) => expectNodeCase(name));
  test.each(['test_einsum_batch_diagonal', 'test_einsum_batch_matmul', 'test_einsum_inner_prod', 'test_einsum_sum', 'test_einsum_transpose'])('%s', (name) => expectNodeCase(name));
});

describe('MatMul', () => {
  const cases: [number[], number[]][] = [
    [[3, 4], [4, 5]],
    [[2, 3, 4], [4, 5]],
    [[4], [2, 4, 3]],
    [[2, 1, 3, 4], [5, 4, 2]],
    [[3, 4], [4]],
    [[4], [4]],
    [[1, 2, 3], [3, 2, 3, 1]],
    [[2, 3, 4], [2, 4, 6]],
  ];
  test.each(cases)('a=%j b=%j', (as, bs) => {
    const a = rand(as, 3), b = rand(bs, 4);
    const [y] = nn.runOp('MatMul', [a, b]);
    const want = refMatMul(a, b);
    expect([...y.shape]).toEqual(want.shape);
    const got = Array.from(y.data as Float32Array);
    want.data.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(1e-4));
  });
  test('a=[2,0] b=[0,3]: zeros', () => {
    const [y] = nn.runOp('MatMul', [new nn.TypedTensor('float32', new Float32Array(0), [2, 0]), new nn.TypedTensor('float32', new Float32Array(0), [0, 3])]);
    expect(Array.from(y.data as Float32Array)).toEqual([0, 0, 0, 0, 0, 0]);
  });
  test('inner dims differ', () => expect(() => nn.runOp('MatMul', [rand([2, 3]), rand([4, 2])])).toThrow(/A's last dim \(3\) must equal B's second to last \(4\)/));
  test('batch dims do not broadcast', () => expect(() => nn.runOp('MatMul', [rand([2, 2, 3]), rand([3, 3, 2])])).toThrow(/do not broadcast/));
});

describe('Einsum', () => {
  const es = (eq: string, ...xs: nn.Tensor[]) => nn.runOp('Einsum', xs, { equation: eq })[0];
  const close = (got: ArrayLike<number>, want: ArrayLike<number>) => {
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4 * (1 + Math.abs(want[i])));
  };
  test('a=[2,3,4] b=[2,4,5] "bij,bjk->bik" equals MatMul', () => {
    const a = rand([2, 3, 4], 1), b = rand([2, 4, 5], 2);
    const y = es('bij,bjk->bik', a, b);
    expect([...y.shape]).toEqual([2, 3, 5]);
    close(y.data as Float32Array, (nn.runOp('MatMul', [a, b])[0].data as Float32Array));
  });
  test('a=[3,4] b=[4,5] implicit output "ij,jk" = ik', () => {
    const a = rand([3, 4], 3), b = rand([4, 5], 4);
    close(es('ij,jk', a, b).data as Float32Array, refMatMul(a, b).data);
  });
  test('a=[2,1,3,4] b=[5,4,2] "...ij,...jk->...ik" broadcasts the ellipsis', () => {
    const a = rand([2, 1, 3, 4], 5), b = rand([5, 4, 2], 6);
    const y = es('...ij,...jk->...ik', a, b);
    const want = refMatMul(a, b);
    expect([...y.shape]).toEqual(want.shape);
    close(y.data as Float32Array, want.data);
  });
  test('a=[4,4] trace "ii", diagonal "ii->i", transpose "ij->ji", sum "ij->"', () => {
    const a = rand([4, 4], 7);
    const d = [0, 1, 2, 3].map((i) => a.data[i * 5]);
    close(es('ii', a).data as Float32Array, [d.reduce((x, y) => x + y, 0)]);
    close(es('ii->i', a).data as Float32Array, d);
    const t: number[] = [];
    for (let j = 0; j < 4; j++) for (let i = 0; i < 4; i++) t.push(a.data[i * 4 + j]);
    close(es('ij->ji', a).data as Float32Array, t);
    close(es('ij->', a).data as Float32Array, [Array.from(a.data).reduce((x, y) => x + y, 0)]);
  });
  test('u=[3] v=[4] outer "i,j->ij", three inputs "ij,jk,kl->il"', () => {
    const u = rand([3], 8), v = rand([4], 9);
    const o: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) o.push(u.data[i] * v.data[j]);
    close(es('i,j->ij', u, v).data as Float32Array, o);
    const a = rand([2, 3], 10), b = rand([3, 4], 11), c = rand([4, 5], 12);
    const ab = nn.tensor(Float32Array.from(refMatMul(a, b).data), [2, 4]);
    close(es('ij,jk,kl->il', a, b, c).data as Float32Array, refMatMul(ab, c).data);
  });
  test('errors: term count, rank, dims, labels', () => {
    const a = rand([2, 3]);
    expect(() => es('ij,jk->ik', a)).toThrow(/2 terms for 1 inputs/);
    expect(() => es('ijk->i', a)).toThrow(/3 labels for an input of rank 2/);
    expect(() => es('ij,ij->i', a, rand([3, 2]))).toThrow(/does not match/);
    expect(() => es('ij->k', a)).toThrow(/not in any input/);
    expect(() => es('i1->i', a)).toThrow(/unexpected character/);
    expect(() => es('ij->ii', a)).toThrow(/must not repeat/);
  });
});
