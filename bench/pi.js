// @ts-check
// Which Raspberry Pi this is, and its theoretical fp32 peak, so that the
// benchmarks (bench/models.js: `npx neonn bench`; bench/layers.js) can report
// GFLOP/s as a fraction of what the board could do at most:
//   peak = cores × clock × fp32 FLOP per cycle per core (a fused multiply-add
//   counts 2; NEON width and issue rate of the core).
// Clocks are the stock maximum; an overclocked or throttled board differs.
'use strict';

const fs = require('fs');

/**
 * @typedef {{ model: string, core: string, cores: number, ghz: number, flopsPerCycle: number, gflops: number }} PiPeak
 */

// First match wins: the more specific patterns come first.
/** @type {[RegExp, string, number, number, number][]} pattern, core, cores, GHz, FLOP/cycle */
const BOARDS = [
  // Cortex-A76: two 128-bit NEON FMA pipes: 2 × 4 lanes × 2 = 16.
  [/Raspberry Pi 5|Raspberry Pi Compute Module 5|Raspberry Pi 500/, 'Cortex-A76', 4, 2.4, 16],
  // Cortex-A72: one 128-bit FMA per cycle: 4 lanes × 2 = 8.
  [/Raspberry Pi 400/, 'Cortex-A72', 4, 1.8, 8],
  [/Raspberry Pi 4|Raspberry Pi Compute Module 4/, 'Cortex-A72', 4, 1.5, 8],
  // Cortex-A53: 8 as well (128-bit FMA per cycle).
  [/Raspberry Pi 3 Model (B|A) Plus/, 'Cortex-A53', 4, 1.4, 8],
  [/Raspberry Pi 3|Raspberry Pi Compute Module 3/, 'Cortex-A53', 4, 1.2, 8],
  [/Raspberry Pi Zero 2/, 'Cortex-A53', 4, 1.0, 8],
  [/Raspberry Pi 2 Model B Rev 1\.2/, 'Cortex-A53', 4, 0.9, 8],
  // Cortex-A7: 64-bit NEON datapath: 2 lanes × 2 = 4.
  [/Raspberry Pi 2/, 'Cortex-A7', 4, 0.9, 4],
];

/**
 * The board's model string: /proc/device-tree/model (NUL-terminated), else
 * the "Model" line of /proc/cpuinfo; null when neither names a Raspberry Pi.
 * @param {(file: string) => string} [read]
 * @returns {string | null}
 */
function readPiModel(read = (file) => fs.readFileSync(file, 'latin1')) {
  const tryRead = (/** @type {string} */ file) => {
    try {
      return read(file);
    } catch {
      return '';
    }
  };
  const dt = tryRead('/proc/device-tree/model').replace(/\0+$/, '').trim();
  if (/Raspberry Pi/.test(dt)) return dt;
  const m = /^Model\s*:\s*(.*Raspberry Pi.*)$/m.exec(tryRead('/proc/cpuinfo'));
  return m ? m[1].trim() : null;
}

/**
 * The theoretical fp32 peak of the Pi named by `model`; null for anything else
 * or a Pi whose peak is not known here (Pi 1 and Zero: ARMv6, no NEON).
 * @param {string | null} model
 * @returns {PiPeak | null}
 */
function piPeak(model) {
  if (!model) return null;
  for (const [re, core, cores, ghz, flopsPerCycle] of BOARDS) {
    if (re.test(model)) return { model, core, cores, ghz, flopsPerCycle, gflops: Math.round(cores * ghz * flopsPerCycle * 10) / 10 };
  }
  return null;
}

/**
 * @param {PiPeak} p
 * @returns {string}
 */
function describePeak(p) {
  return `${p.model}: ${p.cores} × ${p.core} at ${p.ghz} GHz × ${p.flopsPerCycle} FLOP/cycle = ${p.gflops} GFLOP/s theoretical peak`;
}

/**
 * GFLOP/s as a fraction of the peak of the cores in use (`threads` of them).
 * @param {PiPeak} p
 * @param {number} gflops
 * @param {number} threads
 */
function peakFraction(p, gflops, threads) {
  return gflops / ((p.gflops * Math.min(Math.max(threads, 1), p.cores)) / p.cores);
}

module.exports = { readPiModel, piPeak, describePeak, peakFraction };
