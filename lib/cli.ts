#!/usr/bin/env node
/**
 * The `neonn` command: `neonn info`, `neonn bench`, `neonn build`.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

const USAGE = `usage: neonn <command>

  info     backends (availability, versions, OpenBLAS config and core), CPU features, threads
  bench    the zoo models on each backend at 1 and N threads vs onnxruntime-node: table, JSON, SVG;
           then the conv layers of the classic CNNs on each backend (each NNPACK algorithm apart)
           (options passed on: --quick, --models a,b, --backends x, --reference, --runs R, --json PATH;
           --no-layers skips the layers; sgemm alone: npm run bench:gemm)
  build    compile the native addon from source (cmake-js), e.g. when no prebuild matches

environment: NEONN_BACKEND, NEONN_THREADS, NEONN_NNPACK_LIBRARY (see README)`;

const root = path.resolve(__dirname, '..');

function info(json: boolean): void {
  // Loaded lazily so that `neonn build` works when the addon does not load.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nn = require('./index') as typeof import('./index');
  const d = nn.diagnostics();
  if (json) {
    console.log(JSON.stringify(d, null, 2));
    return;
  }
  console.log(`neonn on ${d.platform}-${d.arch} (machine ${d.machine}), node ${d.node}, N-API ${d.napi}`);
  console.log(`build:    flavour ${d.build.flavour}, target ${d.build.target}${d.build.compiler ? `, gcc ${d.build.compiler}` : ''}`);
  console.log(`cpu:      ${d.cpu.model}, ${d.cpu.cores} cores online; features: ${d.cpu.features.join(' ') || 'unknown'}`);
  console.log(`threads:  ${d.threads} per op`);
  console.log(`backend:  ${d.backend} (active)`);
  console.log('backends:');
  for (const b of d.backends) {
    const state = b.available ? 'available' : `unavailable: ${b.reason ?? '?'}`;
    console.log(`  ${b.name.padEnd(12)} ${state}${b.version ? `, version ${b.version}` : ''}${b.core ? `, core ${b.core}` : ''}`);
    if (b.config) console.log(`  ${''.padEnd(12)} ${b.config}`);
  }
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const r = spawnSync(process.execPath, [file, ...args], { stdio: 'inherit', env });
  return r.status ?? 1;
}

/**
 * bench/layers.js's share of `neonn bench`'s options: the backends and the
 * length of the run; its JSON beside the models' one. --models names zoo
 * models there, so a quick run takes two layer sets instead.
 */
function layerArgs(args: string[]): string[] {
  const out: string[] = [];
  const value = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (args.includes('--quick')) out.push('--quick', '--models', 'vgg16,squeezenet');
  if (args.includes('--reference')) out.push('--reference');
  const backends = value('--backends');
  if (backends !== undefined) out.push('--backends', backends);
  const json = value('--json');
  if (json !== undefined) out.push('--json', json.replace(/\.json$/, '') + '-layers.json');
  return out;
}

function main(argv: string[]): number {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'info':
      info(rest.includes('--json'));
      return 0;
    case 'bench': {
      const args = rest.filter((a) => a !== '--no-layers');
      const status = run(path.join(root, 'bench', 'models.js'), args);
      if (status !== 0 || rest.includes('--no-layers')) return status;
      return run(path.join(root, 'bench', 'layers.js'), layerArgs(args));
    }
    case 'build':
      return run(path.join(root, 'scripts', 'install.js'), rest, { ...process.env, NEONN_BUILD_FROM_SOURCE: '1' });
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return cmd === undefined ? 1 : 0;
    default:
      console.error(`neonn: unknown command ${JSON.stringify(cmd)}\n\n${USAGE}`);
      return 1;
  }
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
