#!/usr/bin/env node
// `npm run test:asan`: builds the addon with AddressSanitizer + UBSan into
// build-asan/ (scripts/sanitize.cmake, injected as CMAKE_PROJECT_INCLUDE; the
// OpenBLAS objects come from the usual cache) and runs the op, ONNX, async and
// safety suites against it: NEONN_ADDON_PATH points lib/native.ts at it,
// LD_PRELOAD puts the ASan runtime first (node itself is not instrumented).
// Fails on any sanitizer report, in jest's workers or in the children the
// tests spawn: every ASan report is also written under a log directory,
// checked after the run; a UBSan finding aborts its process (it is built
// with -fno-sanitize-recover; UBSan in the ASan runtime reports to stderr
// only), which fails the test that ran it. Leak detection is off: node frees
// little at exit by design.
//
//   npm run test:asan [-- --no-build] [-- <jest path patterns>]
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const buildDir = path.join(root, 'build-asan');
const addon = path.join(buildDir, 'Release', 'neonn.node');

/**
 * The suites run under the sanitizers: bounded to a few minutes on 2 cores.
 * test/onnx/real-models.test.ts alone takes 8 minutes under ASan there: run
 * it apart when there is time (`npm run test:asan -- --no-build test/onnx/real-models.test.ts`).
 */
const SUITES = [
  'test/safety',
  'test/async',
  'test/ops',
  'test/unit',
  'test/onnx/load.test.ts',
  'test/onnx/load-errors.test.ts',
  'test/onnx/proto.test.ts',
  'test/model',
  'test/fuzz',
  'test/xnnpack/winograd.test.ts',
  'test/xnnpack/nhwc-kernels.test.ts',
  'test/xnnpack/gemm-conv.test.ts',
  'test/xnnpack/quantized-region.test.ts',
];

function run(cmd, args, options) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...options });
  if (r.error) throw r.error;
  return r.status === null ? 1 : r.status;
}

function build() {
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
  const include = path.join(root, 'scripts', 'sanitize.cmake');
  const status = run(process.execPath, [cmakeJs, 'compile', '--directory', root, '--out', buildDir, `--CDCMAKE_PROJECT_INCLUDE=${include}`]);
  if (status !== 0) {
    console.error('test:asan: the sanitizer build failed');
    process.exit(status);
  }
}

/** The ASan runtime the compiler links against, for LD_PRELOAD. */
function asanRuntime() {
  const r = spawnSync('c++', ['-print-file-name=libasan.so'], { encoding: 'utf8' });
  const file = (r.stdout || '').trim();
  if (r.status !== 0 || !path.isAbsolute(file) || !fs.existsSync(file)) {
    console.error('test:asan: cannot find libasan.so (c++ -print-file-name=libasan.so); install the compiler\'s libasan');
    process.exit(1);
  }
  return fs.realpathSync(file);
}

/**
 * What a process needs to run neonn's sanitizer build: the addon, libasan
 * first, every finding fatal; ASan reports also go to files under `logs`.
 */
function sanitizerEnv(logs) {
  if (!fs.existsSync(addon)) {
    console.error(`neonn: ${addon} is missing: build it with npm run test:asan`);
    process.exit(1);
  }
  return {
    NEONN_ADDON_PATH: addon,
    LD_PRELOAD: [asanRuntime(), process.env.LD_PRELOAD].filter(Boolean).join(':'),
    ASAN_OPTIONS: `detect_leaks=0:halt_on_error=1:abort_on_error=1:log_path=${logs}/asan:log_exe_name=1`,
    UBSAN_OPTIONS: `halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=${logs}/ubsan:log_exe_name=1`,
  };
}

function main() {
  const args = process.argv.slice(2);
  const noBuild = args.includes('--no-build');
  const patterns = args.filter((a) => a !== '--no-build');
  const t0 = Date.now();
  if (!noBuild) build();
  const built = Date.now();
  const logs = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-asan-'));
  const env = { ...process.env, ...sanitizerEnv(logs) };
  const jest = require.resolve('jest/bin/jest', { paths: [root] });
  const status = run(process.execPath, [jest, '--ci', '--maxWorkers=2', ...(patterns.length > 0 ? patterns : SUITES)], { env });
  const reports = fs.readdirSync(logs).map((f) => path.join(logs, f));
  for (const f of reports) {
    console.error(`\n=== sanitizer report ${f} ===\n${fs.readFileSync(f, 'utf8')}`);
  }
  const s = (ms) => `${(ms / 1000).toFixed(0)} s`;
  console.log(`test:asan: build ${s(built - t0)}, tests ${s(Date.now() - built)}; ${reports.length} sanitizer report(s)`);
  if (reports.length === 0) fs.rmSync(logs, { recursive: true, force: true });
  process.exit(reports.length > 0 ? 1 : status);
}

if (require.main === module) main();

module.exports = { sanitizerEnv };
