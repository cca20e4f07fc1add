#!/usr/bin/env node
// The build command prebuildify runs (its --node-gyp option), speaking just
// enough of node-gyp's interface: `rebuild --arch=<arch> ...`. Builds with
// cmake-js into build-<target>/ (cross toolchain for ARM), then puts the
// addon where prebuildify collects it: build/Release/neonn.node.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const archArg = process.argv.find((a) => a.startsWith('--arch='));
const arch = archArg ? archArg.slice('--arch='.length) : process.arch;
const target = process.env.NEONN_PREBUILD_TARGET || `linux-${arch}`;
const toolchains = { 'linux-arm64': 'linux-arm64.cmake', 'linux-arm': 'linux-arm.cmake' };
const cross = target !== `linux-${process.arch}`;
const outDir = path.join(root, `build-${target}`);

const args = [require.resolve('cmake-js/bin/cmake-js', { paths: [root] }), 'compile', '--directory', root, '--out', outDir];
if (cross) {
  if (!toolchains[target]) {
    console.error(`prebuild-backend: no toolchain for ${target}`);
    process.exit(2);
  }
  args.push(`--CDCMAKE_TOOLCHAIN_FILE=${path.join(root, 'deps', 'toolchains', toolchains[target])}`);
}
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
fs.mkdirSync(path.join(root, 'build', 'Release'), { recursive: true });
fs.copyFileSync(path.join(outDir, 'Release', 'neonn.node'), path.join(root, 'build', 'Release', 'neonn.node'));
