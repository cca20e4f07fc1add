// blas:<path>: any CBLAS shared library by path as a GEMM backend, loaded
// with local symbols. A stand-in library built here proves dispatch and
// isolation: its sgemm adds 1000 to every result, so its output is told apart
// from the bundled OpenBLAS's, and the bundled builds must stay unaffected.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as nn from '../lib';
import { expectClose, randomTensor } from './helpers';

const BLIS = '/usr/lib/x86_64-linux-gnu/blis-pthread/libblis.so.4';

// Row-major, no-transpose-aware naive sgemm with a +1000 marker; the enum
// values are CBLAS's (RowMajor 101, NoTrans 111, Trans 112).
const STAND_IN = `
float marker = 1000.0f;
void cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float* a, int lda,
                 const float* b, int ldb, float beta, float* c, int ldc) {
  (void)order;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      float s = 0;
      for (int p = 0; p < k; ++p) {
        float av = ta == 112 ? a[p * lda + i] : a[i * lda + p];
        float bv = tb == 112 ? b[j * ldb + p] : b[p * ldb + j];
        s += av * bv;
      }
      c[i * ldc + j] = alpha * s + (beta == 0.0f ? 0.0f : beta * c[i * ldc + j]) + marker;
    }
}
`;

let dir: string;
let standIn: string;
let noSgemm: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-blas-'));
  fs.writeFileSync(path.join(dir, 'standin.c'), STAND_IN);
  fs.writeFileSync(path.join(dir, 'nosgemm.c'), 'int not_blas(void) { return 1; }\n');
  standIn = path.join(dir, 'libstandin.so');
  noSgemm = path.join(dir, 'libnosgemm.so');
  execFileSync('cc', ['-shared', '-fPIC', '-O1', '-o', standIn, path.join(dir, 'standin.c')]);
  execFileSync('cc', ['-shared', '-fPIC', '-o', noSgemm, path.join(dir, 'nosgemm.c')]);
});
afterAll(() => {
  nn.setBackend('auto');
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('blas:<path>', () => {
  const x = randomTensor([1, 3, 6, 6], 1);
  const w = randomTensor([4, 3, 3, 3], 2);

  test("runs conv2d through that library's sgemm, listed with its library path", () => {
    const want = (nn.setBackend('reference'), nn.conv2d(x, w)).data;
    nn.setBackend(`blas:${standIn}`);
    expect(nn.getBackend()).toBe(`blas:${standIn}`);
    const got = nn.conv2d(x, w).data;
    expectClose(got.map((v) => v - 1000), want, 1e-3, 1e-3);
    const info = nn.backends().find((b) => b.name === `blas:${standIn}`)!;
    expect(info).toMatchObject({ available: true, library: standIn, fallback: 'reference' });
    expect(info.convRuns.im2col).toBe(1);
  });

  test('the bundled OpenBLAS builds are not captured by the loaded library', () => {
    nn.setBackend(`blas:${standIn}`);
    const want = (nn.setBackend('reference'), nn.conv2d(x, w)).data;
    for (const b of ['openblas', 'openblas-dl']) {
      nn.setBackend(b);
      expectClose(nn.conv2d(x, w).data, want, 1e-4, 1e-4);
      expectClose(nn.gemm(randomTensor([3, 4], 3), randomTensor([4, 2], 4)).data, (nn.setBackend('reference'), nn.gemm(randomTensor([3, 4], 3), randomTensor([4, 2], 4))).data, 1e-4, 1e-4);
    }
  });

  test('loading twice reuses the backend', () => {
    nn.setBackend(`blas:${standIn}`);
    nn.setBackend(`blas:${standIn}`);
    expect(nn.backends().filter((b) => b.name === `blas:${standIn}`)).toHaveLength(1);
  });

  test('a missing file, a library without cblas_sgemm and an empty path are clear errors', () => {
    nn.setBackend('auto');
    expect(() => nn.setBackend('blas:/nonexistent/libx.so')).toThrow(/setBackend: backend "blas:\/nonexistent\/libx.so" is unavailable \(cannot load \/nonexistent\/libx.so: .*No such file/);
    let code = '';
    try {
      nn.setBackend('blas:/nonexistent/libx.so');
    } catch (e) {
      code = (e as nn.NeonnError).code;
      expect((e as Error).message).not.toMatch(/^setBackend: Error:/);
    }
    expect(code).toBe('ERR_NEONN_BACKEND_UNAVAILABLE');
    expect(() => nn.setBackend(`blas:${noSgemm}`)).toThrow(/has no cblas_sgemm: not a CBLAS library/);
    expect(() => nn.setBackend('blas:')).toThrow(RangeError);
    expect(nn.getBackend()).toBe('auto');
    expect(nn.backends().some((b) => b.name.startsWith('blas:/nonexistent'))).toBe(false);
  });

  const blis = fs.existsSync(BLIS);
  if (!blis) {
    // eslint-disable-next-line no-console
    console.warn(`SKIPPED blas:${BLIS} tests: Debian's BLIS is not installed (apt-get install libblis4-pthread; scripts/setup.sh does)`);
  }
  (blis ? test : test.skip)("Debian's BLIS runs conv2d and fullyConnected like the reference backend", () => {
    const xs = randomTensor([1, 16, 12, 12], 5);
    const ws = randomTensor([8, 16, 3, 3], 6);
    const fx = randomTensor([2, 40], 7);
    const fw = randomTensor([5, 40], 8);
    nn.setBackend('reference');
    const want = [nn.conv2d(xs, ws, { pads: 1 }).data, nn.fullyConnected(fx, fw).data];
    nn.setBackend(`blas:${BLIS}`);
    expectClose(nn.conv2d(xs, ws, { pads: 1 }).data, want[0], 1e-4, 1e-4);
    expectClose(nn.fullyConnected(fx, fw).data, want[1], 1e-4, 1e-4);
  });

  test('auto does not hand layers to a loaded blas:<path> library', () => {
    nn.setBackend(`blas:${standIn}`);
    // A 1x1 conv on one pixel: the stand-in's naive loop would be the fastest
    // path, and its +1000 would show if auto had measured it.
    const xs = nn.tensor(new Float32Array([2]), [1, 1, 1, 1]);
    const ws = nn.tensor(new Float32Array([3]), [1, 1, 1, 1]);
    nn.setBackend('auto');
    for (let i = 0; i < 3; ++i) expect(nn.conv2d(xs, ws).data[0]).toBe(6);
  });
});
