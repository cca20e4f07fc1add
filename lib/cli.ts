#!/usr/bin/env node
/**
 * The `neonn` command: `neonn info`, `bench`, `build`, `run`, `inspect`, `quantize`.
 * Every command declares its flags (lib/cli/args.ts): an unknown flag or a
 * bad value is one line on stderr and exit code 2, before any work.
 */
import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import * as path from 'path';
import { CommandSpec, Parsed, UsageError, intValue, nameList, parseArgs } from './cli/args';
import { INSPECT, inspect } from './cli/inspect';
import { QUANTIZE, quantize } from './cli/quantize';
import { RUN, run as runModel } from './cli/run';

const USAGE = `usage: neonn <command> [options]    (neonn <command> --help for its options; neonn --version)

  run      run an ONNX model on a photo (--image) or a raw tensor (--input): output shapes, summaries, top-k
  inspect  an ONNX model's inputs/outputs (symbolic dims), op counts, and which backend runs what
  quantize int8 post-training quantization of an ONNX model, calibrated on a directory of photos or
           tensors (--calibrate dir --out model.int8.onnx): QDQ or QOperator, error vs float
  info     backends (availability, versions, OpenBLAS config and core), CPU features, threads
  bench    the zoo models on each backend at 1 and N threads vs onnxruntime-node: table, JSON, SVG;
           then the conv layers of the classic CNNs on each backend (each NNPACK algorithm apart)
           (options passed on: --quick, --models a,b, --backends x, --reference, --runs R, --int8, --json PATH;
           --no-layers skips the layers; sgemm alone: npm run bench:gemm)
  build    compile the native addon from source (cmake-js), e.g. when no prebuild matches

environment: NEONN_BACKEND, NEONN_THREADS, NEONN_NNPACK_LIBRARY (see README)`;

const root = path.resolve(__dirname, '..');

const INFO: CommandSpec = {
  name: 'info',
  help: 'usage: neonn info [--json]\n\n  backends (availability, versions, OpenBLAS config and core), CPU features, threads\n\n  --json   print the diagnostics as JSON',
  flags: { '--json': 'bool' },
  positionals: [0, 0],
};

const BENCH: CommandSpec = {
  name: 'bench',
  help: `usage: neonn bench [options]

  the zoo models on each backend at 1 and N threads vs onnxruntime-node (table, JSON, SVG),
  then the conv layers of the classic CNNs on each backend; each pair starts cold (its own
  empty tuning cache: load and first run include auto's measuring)

  --quick            a short run (three models, fewer runs)
  --models a,b       zoo models and/or .onnx files to run (a file's float inputs are fed at
                     their declared shapes: symbolic batch 1, symbolic H and W from --size;
                     with a file the conv-layer part is skipped)
  --size <HxW>       spatial size for models with symbolic H and W
  --backends x,y     backends to run (default: every available one but reference)
  --reference        include the reference backend
  --runs <R>         timed runs per pair
  --int8             also each zoo model quantized by nn.quantize (QDQ), its int8 row after its fp32 one
  --json <path>      where the models' JSON goes (the layers' JSON beside it;
                     default ./neonn-bench/ in the current directory)
  --svg <path>       where the chart goes
  --no-layers        skip the conv layers`,
  flags: {
    '--quick': 'bool', '--models': 'value', '--size': 'value', '--backends': 'value', '--reference': 'bool', '--runs': 'value',
    '--json': 'value', '--svg': 'value', '--no-layers': 'bool', '--int8': 'bool',
  },
  positionals: [0, 0],
};

const BUILD: CommandSpec = {
  name: 'build',
  help: 'usage: neonn build\n\n  compile the native addon from source (cmake-js), e.g. when no prebuild matches',
  flags: {},
  positionals: [0, 0],
};

/** Checks bench's values here: bench/models.js would otherwise start a full run on a typo. */
function checkBench({ flags }: Parsed): void {
  const v = (f: string): string | undefined => flags.get(f) as string | undefined;
  if (v('--runs') !== undefined) intValue('bench', '--runs', v('--runs')!);
  if (v('--models') !== undefined) {
    for (const m of nameList('bench', '--models', v('--models')!)) {
      if ((m.endsWith('.onnx') || m.includes('/')) && !existsSync(m)) throw new UsageError(`neonn bench: --models: no such file ${JSON.stringify(m)}`);
    }
  }
  if (v('--backends') !== undefined) nameList('bench', '--backends', v('--backends')!);
  const size = v('--size');
  if (size !== undefined && !/^[1-9]\d*x[1-9]\d*$/.test(size)) throw new UsageError(`neonn bench: --size must be HxW (e.g. 320x320), got ${JSON.stringify(size)}`);
}

/** Whether `--models` names a file (the user's own model) rather than only zoo models. */
function benchesFiles(args: string[]): boolean {
  const i = args.indexOf('--models');
  return i >= 0 && (args[i + 1] ?? '').split(',').some((m) => m.endsWith('.onnx') || m.includes('/'));
}

function version(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(path.join(root, 'package.json')) as { version: string }).version;
}

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

const COMMANDS: Readonly<Record<string, CommandSpec>> = { info: INFO, bench: BENCH, build: BUILD, run: RUN, inspect: INSPECT, quantize: QUANTIZE };

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-v') {
    if (rest.length > 0) throw new UsageError(`neonn --version: unexpected argument ${JSON.stringify(rest[0])}`);
    console.log(version());
    return 0;
  }
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    const topic = cmd === 'help' ? rest[0] : undefined;
    if (topic !== undefined && COMMANDS[topic] === undefined) throw new UsageError(`neonn help: unknown command ${JSON.stringify(topic)}`);
    console.log(topic !== undefined ? COMMANDS[topic].help : USAGE);
    return cmd === undefined ? 2 : 0;
  }
  const spec = COMMANDS[cmd];
  if (spec === undefined) {
    throw new UsageError(`neonn: unknown ${cmd.startsWith('-') ? 'option' : 'command'} ${JSON.stringify(cmd)}; commands: ${Object.keys(COMMANDS).join(', ')} (neonn --help)`);
  }
  const parsed = parseArgs(spec, rest);
  if (parsed.flags.has('--help')) {
    console.log(spec.help);
    return 0;
  }
  switch (cmd) {
    case 'info':
      info(parsed.flags.has('--json'));
      return 0;
    case 'bench': {
      checkBench(parsed);
      const args = rest.filter((a) => a !== '--no-layers');
      const status = run(path.join(root, 'bench', 'models.js'), args);
      if (status !== 0 || rest.includes('--no-layers') || benchesFiles(args)) return status;
      return run(path.join(root, 'bench', 'layers.js'), layerArgs(args));
    }
    case 'build':
      return run(path.join(root, 'scripts', 'install.js'), [], { ...process.env, NEONN_BUILD_FROM_SOURCE: '1' });
    case 'run':
      return runModel(parsed);
    case 'quantize':
      return quantize(parsed);
    default:
      return inspect(parsed);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: Error) => {
      // One line, no stack: a usage error exits with 2, a failure of the work with 1.
      console.error(err instanceof UsageError ? err.message : `neonn: ${err.message.split('\n')[0]}`);
      process.exitCode = err instanceof UsageError ? 2 : 1;
    },
  );
}
