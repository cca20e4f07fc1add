/** What `nn.diagnostics()` and `npx neonn info` report about this machine and build. */
import * as os from 'os';

import { BackendInfo, backends, getBackend, getThreads } from './backends';
import { binding } from './native';
import { OnnxLayer, liveOnnxModels } from './onnx/model';

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
  /**
   * Process memory in bytes: `rss`, and `mallocInUse`, the C heap handed out and
   * not yet freed (glibc's mallinfo2; absent where glibc cannot say). RSS also
   * counts pages malloc keeps after a free; `mallocInUse` does not, so a native
   * leak shows there as steady growth.
   */
  readonly memory: { rss: number; mallocInUse?: number };
  /** Each loaded ONNX model still alive: its steps, and the backend and kernels each runs on. */
  readonly models: { inputNames: readonly string[]; outputNames: readonly string[]; layers: OnnxLayer[] }[];
}

/**
 * Architecture, CPU features, build flavour and every backend's state.
 * @example
 * console.log(nn.diagnostics().backends.map((b) => `${b.name}: ${b.available}`));
 */
export function diagnostics(): Diagnostics {
  const cpus = os.cpus();
  const build = binding.buildInfo();
  return {
    platform: process.platform,
    arch: process.arch,
    machine: os.machine(),
    node: process.versions.node,
    napi: binding.napiVersion,
    build: { flavour: build.flavour, target: build.target, ...(build.compiler ? { compiler: build.compiler } : {}) },
    // From the kernel's hardware capabilities (ARM) or cpuid (x86), at run time.
    cpu: { model: cpus[0]?.model ?? 'unknown', cores: binding.onlineCores(), features: build.cpuFeatures },
    backend: getBackend(),
    threads: getThreads(),
    backends: backends(),
    memory: memory(),
    models: liveOnnxModels().map((m) => ({ inputNames: m.inputNames, outputNames: m.outputNames, layers: m.layers() })),
  };
}

function memory(): { rss: number; mallocInUse?: number } {
  const inUse = binding.mallocInUse();
  return inUse >= 0 ? { rss: process.memoryUsage.rss(), mallocInUse: inUse } : { rss: process.memoryUsage.rss() };
}
