// How the nnpack backend is loaded (dlopen at run time, never a build
// dependency): a missing library, a library missing an entry point, and
// NNPACK's "unsupported hardware" answer each leave nnpack listed as
// unavailable with the reason, and never fail require('neonn'). Stand-in
// libraries built here play NNPACK; the registry probes once per process,
// so each case runs in a child process.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');

// Every entry point neonn resolves; nnp_initialize answers INIT_STATUS, and
// OMIT leaves one symbol out.
const STAND_IN = `
#include <stddef.h>
#ifndef INIT_STATUS
#define INIT_STATUS 0
#endif
int nnp_initialize(void) { return INIT_STATUS; }
int nnp_convolution_inference(void) { return 26; }
int nnp_fully_connected_inference(void) { return 26; }
int nnp_max_pooling_output(void) { return 26; }
#ifndef OMIT_SOFTMAX
int nnp_softmax_output(void) { return 26; }
#endif
int nnp_relu_output(void) { return 26; }
void* pthreadpool_create(size_t n) { (void)n; return NULL; }
void pthreadpool_destroy(void* p) { (void)p; }
`;

interface Probe {
  nnpack: { available: boolean; reason?: string; library?: string };
  setBackend: string;
}

// Loads neonn with NEONN_NNPACK_LIBRARY = `lib` (undefined: unset) and
// reports nnpack's entry and what setBackend('nnpack') says.
function probe(lib: string | undefined): Probe {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NEONN_NNPACK_LIBRARY;
  delete env.NEONN_BACKEND;
  if (lib !== undefined) env.NEONN_NNPACK_LIBRARY = lib;
  const script = `
    const nn = require(${JSON.stringify(path.join(ROOT, 'dist'))});
    const nnpack = nn.backends().find((b) => b.name === 'nnpack');
    let setBackend = 'ok';
    try { nn.setBackend('nnpack'); } catch (e) { setBackend = e.constructor.name + ' ' + e.code + ': ' + e.message; }
    process.stdout.write(JSON.stringify({ nnpack, setBackend }));
  `;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' })) as Probe;
}

let dir: string;
const lib = (name: string): string => path.join(dir, name);
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-nnpack-'));
  const src = lib('standin.c');
  fs.writeFileSync(src, STAND_IN);
  const cc = (out: string, ...defs: string[]) =>
    execFileSync('cc', ['-shared', '-fPIC', ...defs, '-o', lib(out), src]);
  cc('libnosoftmax.so', '-DOMIT_SOFTMAX');
  cc('libunsupported.so', '-DINIT_STATUS=51');
  cc('libuninitialized.so', '-DINIT_STATUS=52');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('nnpack loading', () => {
  test('a NEONN_NNPACK_LIBRARY that does not exist: unavailable, the reason names the path', () => {
    const p = probe('/nonexistent/libnnpack.so');
    expect(p.nnpack.available).toBe(false);
    expect(p.nnpack.reason).toMatch(/^NEONN_NNPACK_LIBRARY=\/nonexistent\/libnnpack\.so cannot be loaded: .*No such file/);
    expect(p.setBackend).toMatch(
      /^NeonnError ERR_NEONN_BACKEND_UNAVAILABLE: setBackend: backend "nnpack" is unavailable: NEONN_NNPACK_LIBRARY=\/nonexistent\/libnnpack\.so cannot be loaded: .*; available: auto, openblas, .*; unavailable: .*nnpack \(/,
    );
  });

  test('unset: the system library path is searched, and the reason says how to point at a build', () => {
    const p = probe(undefined);
    if (p.nnpack.available) {
      // A system-wide libnnpack.so exists on this machine: it was found.
      expect(p.nnpack.library).toMatch(/libnnpack\.so/);
    } else {
      expect(p.nnpack.reason).toMatch(/^libnnpack\.so not found on the library path \(set NEONN_NNPACK_LIBRARY/);
    }
  });

  test('a library that is not NNPACK: unavailable, the reason names the missing entry point', () => {
    const p = probe(lib('libnosoftmax.so'));
    expect(p.nnpack.available).toBe(false);
    expect(p.nnpack.reason).toBe(`${lib('libnosoftmax.so')} has no nnp_softmax_output: not an NNPACK library, or one built without it`);
  });

  test('nnp_initialize() answering "unsupported hardware" (51): unavailable with that reason, neonn still loads', () => {
    const p = probe(lib('libunsupported.so'));
    expect(p.nnpack.available).toBe(false);
    expect(p.nnpack.reason).toMatch(/^nnp_initialize\(\) reports unsupported hardware: NNPACK needs AVX2 and an L3 cache on x86-64, NEON on ARM/);
    expect(p.setBackend).toMatch(/unsupported hardware/);
  });

  test('any other nnp_initialize() failure is reported with its status', () => {
    const p = probe(lib('libuninitialized.so'));
    expect(p.nnpack.available).toBe(false);
    expect(p.nnpack.reason).toMatch(/^nnp_initialize\(\) failed: out of memory \(status 52; library /);
  });

  test('a non-library file is a dlopen error, not a crash', () => {
    const junk = lib('libjunk.so');
    fs.writeFileSync(junk, 'not an ELF file');
    const p = probe(junk);
    expect(p.nnpack.available).toBe(false);
    expect(p.nnpack.reason).toMatch(/cannot be loaded: .*(invalid ELF header|file too short)/);
  });
});
