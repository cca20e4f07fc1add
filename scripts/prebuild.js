#!/usr/bin/env node
// npm run prebuilds [-- linux-arm64 linux-arm linux-x64]
//
// Builds the prebuilt binaries with prebuildify (Node-API, stripped), one per
// target, cross-compiling the ARM ones with Debian's cross compilers and the
// toolchain files in deps/toolchains/. prebuildify drives a node-gyp-style
// command; scripts/prebuild-backend.js is that command for cmake-js.
// The host's target goes last: prebuildify moves each binary out of
// build/Release into prebuilds/<platform>-<arch>/.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const TARGETS = {
  'linux-arm64': { arch: 'arm64', strip: 'aarch64-linux-gnu-strip' },
  'linux-arm': { arch: 'arm', strip: 'arm-linux-gnueabihf-strip' },
  'linux-x64': { arch: 'x64', strip: 'strip' },
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const host = `linux-${process.arch}`;
const order = (wanted.length ? wanted : Object.keys(TARGETS)).sort((a, b) => (a === host) - (b === host));
for (const t of order) {
  if (!TARGETS[t]) {
    console.error(`prebuild: unknown target ${t}; known: ${Object.keys(TARGETS).join(', ')}`);
    process.exit(2);
  }
}

// prebuildify collects (moves) build/Release/neonn.node: keep the developer's
// own build aside and put it back at the end.
const devBuild = path.join(root, 'build', 'Release', 'neonn.node');
const saved = `${devBuild}.before-prebuild`;
if (fs.existsSync(devBuild)) fs.renameSync(devBuild, saved);
process.on('exit', () => {
  if (fs.existsSync(saved)) fs.renameSync(saved, devBuild);
});

for (const t of order) {
  const { arch, strip } = TARGETS[t];
  console.log(`prebuild: ${t}`);
  const r = spawnSync(
    process.execPath,
    [require.resolve('prebuildify/bin.js', { paths: [root] }), '--napi', '--strip', '--strip-bin', strip, '--platform', 'linux', '--arch', arch, '--tag-libc', '--node-gyp', path.join(__dirname, 'prebuild-backend.js')],
    { cwd: root, stdio: 'inherit', env: { ...process.env, NEONN_PREBUILD_TARGET: t } },
  );
  if (r.status !== 0) {
    console.error(`prebuild: ${t} failed`);
    process.exit(r.status ?? 1);
  }
}
