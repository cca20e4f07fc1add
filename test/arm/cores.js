// Prints, as JSON, the kernel set ("core") each OpenBLAS build picked at run
// time on this CPU: { "openblas": "cortexa53", "openblas-dl": "cortexa53" }.
// test/arm/emulated.test.ts runs it under qemu-user -cpu <core>.
'use strict';

const nn = require('neonn');

const cores = {};
for (const b of nn.backends()) if (b.name.startsWith('openblas')) cores[b.name] = b.core ?? null;
process.stdout.write(JSON.stringify(cores));
