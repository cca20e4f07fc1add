/** What `nn.diagnostics()` and `npx neonn info` report about this machine and build. */
import * as fs from 'fs';
import * as os from 'os';

import { BackendInfo, backends, getBackend, getThreads } from './backends';
import { binding } from './native';

/** The report of {@link diagnostics}. */
export interface Diagnostics {
  readonly platform: string;
  /** `process.arch`: the userland (a 32-bit OS on a 64-bit board says `arm`). */
  readonly arch: string;
  /** Kernel machine name (`uname -m`), e.g. `aarch64` under a 32-bit userland. */
  readonly machine: string;
  readonly node: string;
  readonly napi: number;
  /** How neonn's own C++ was compiled: flavour (neon, vanilla, generic), target, compiler. */
  readonly build: { flavour: string; target: string; compiler?: string };
  readonly cpu: { model: string; cores: number; features: string[] };
  readonly backend: string;
  readonly threads: number;
  readonly backends: BackendInfo[];
}

// The features that matter for the kernels neonn and its libraries pick.
const INTERESTING = ['neon', 'vfpv4', 'vfpv3', 'asimd', 'asimdhp', 'asimddp', 'fphp', 'sve', 'sse2', 'sse4_2', 'avx', 'fma', 'f16c', 'avx2', 'avx512f', 'avx512_vnni'];

function cpuFeatures(): string[] {
  try {
    const text = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const line = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(text);
    if (!line) return [];
    const have = new Set(line[1].trim().split(/\s+/));
    return INTERESTING.filter((f) => have.has(f));
  } catch {
    return [];
  }
}

/**
 * Architecture, CPU features, build flavour and every backend's state.
 * @example
 * console.log(nn.diagnostics().backends.map((b) => `${b.name}: ${b.available}`));
 */
export function diagnostics(): Diagnostics {
  const cpus = os.cpus();
  return {
    platform: process.platform,
    arch: process.arch,
    machine: os.machine(),
    node: process.versions.node,
    napi: binding.napiVersion,
    build: binding.buildInfo(),
    cpu: { model: cpus[0]?.model ?? 'unknown', cores: binding.onlineCores(), features: cpuFeatures() },
    backend: getBackend(),
    threads: getThreads(),
    backends: backends(),
  };
}
