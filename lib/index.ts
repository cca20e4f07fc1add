/**
 * neonn: convolutional neural networks on weak hardware, from TypeScript.
 * @example
 * import * as nn from 'neonn';
 * const y = nn.gemm(nn.tensor(a, [64, 128]), nn.tensor(b, [128, 32]));
 */
import { gemmAsync } from './ops/gemm';

export { Tensor, tensor } from './tensor';
export type { TensorLike } from './tensor';
export { NeonnError } from './errors';
export { backends, setBackend, getBackend, setThreads, getThreads } from './backends';
export type { BackendInfo } from './backends';
export { diagnostics } from './diagnostics';
export type { Diagnostics } from './diagnostics';
export { gemm } from './ops/gemm';
export type { GemmOptions } from './ops/gemm';

/**
 * The same ops, returning Promises: the work runs on the libuv thread pool
 * and never blocks the event loop.
 */
export const async = Object.freeze({
  gemm: gemmAsync,
});
