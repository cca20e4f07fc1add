#!/usr/bin/env node
// npm install hook: use a matching prebuilt binary when there is one, else
// compile from source with cmake-js. (node-gyp-build's own install bin would
// fall back to node-gyp, which ignores CMakeLists.txt.)
// Force a source build with NEONN_BUILD_FROM_SOURCE=1 or --build-from-source.
'use strict';

const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');

function wantsSource() {
  const v = process.env.NEONN_BUILD_FROM_SOURCE || process.env.npm_config_build_from_source;
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

function findBinary() {
  try {
    return require('node-gyp-build').path(root);
  } catch {
    return null;
  }
}

function build() {
  let cmakeJs;
  try {
    cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
  } catch {
    console.error('neonn: no prebuilt binary for this platform and cmake-js is not installed.\n' +
      '  Install it (npm install cmake-js) and run: npx neonn build');
    process.exit(1);
  }
  console.log(`neonn: building from source for ${process.platform}-${process.arch} (OpenBLAS twice: this takes a few minutes)`);
  const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--directory', root], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('neonn: the source build failed. It needs cmake >= 3.18, gcc/g++, make, perl, and OpenBLAS source\n' +
      '  (a Debian deb-src entry for `apt-get source openblas`, or NEONN_OPENBLAS_SOURCE=<dir or tarball>).');
    process.exit(r.status === null ? 1 : r.status);
  }
}

if (require.main === module) {
  const found = wantsSource() ? null : findBinary();
  if (found) {
    console.log(`neonn: using ${path.relative(root, found)}`);
  } else {
    build();
  }
}

module.exports = { build, findBinary };
