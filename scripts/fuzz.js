#!/usr/bin/env node
// `npm run fuzz -- --seconds N`: mutates ONNX models and loads and runs each
// mutant in a child process with a time and memory cap. A case whose child
// dies (signal, abort, sanitizer) is a crash, one that outlives the time cap
// twice (the second time alone, with three times the time) a hang, one whose
// RSS passes the memory cap runaway memory: each is saved
// to test/fuzz-corpus/<kind>-<hash>.onnx.hex (hex text), which test/fuzz/replay.test.ts
// replays forever after. Exit code 1 when this run found a new one.
//
// Seeds: ../shared/real-models/*/model.onnx (NEONN_FUZZ_SEEDS: other
// directories, ':'-separated) and /usr/share/libonnx-testdata/data/node/*/model.onnx
// when installed. Mutations: byte flips, truncation, splicing two files, and
// through lib/onnx/proto (decode, change, encode): dims, attributes, raw data
// lengths, node inputs, data types.
//
//   npm run fuzz -- [--seconds 60] [--jobs 2] [--timeout-ms 10000] [--max-rss-mb 1500] [--seed S] [--corpus DIR] [--asan]
//   (--asan: the children load build-asan/ under libasan, as npm run test:asan builds it; 30 s, 3 GB caps)
//   node scripts/fuzz.js --case <file.onnx[.hex]>   one case, in this process: prints {"outcome": ...}
//   node scripts/fuzz.js --serve              case paths on stdin (what the pool's children run)
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..');
const defaultCorpus = path.join(root, 'test', 'fuzz-corpus');

// ---------------------------------------------------------------------------
// One case (child side): load, feed every input small random data, run.

/** A clean error: one of neonn's, or a TypeError/RangeError that says who threw it ("loadOnnx: ..."). */
function isClean(e) {
  if (e === null || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && e.code.startsWith('ERR_NEONN')) return true;
  return (e.name === 'TypeError' || e.name === 'RangeError') && /^[A-Za-z][\w.]*: /.test(String(e.message));
}

/**
 * The corpus keeps its cases as hex text (`<kind>-<hash>.onnx.hex`, 64 bytes a
 * line): reviewable in a diff, and no binaries in git. A plain .onnx loads as is.
 */
function toHex(bytes) {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.replace(/(.{128})/g, '$1\n').replace(/\n$/, '')}\n`;
}

function readCase(file) {
  const raw = fs.readFileSync(file);
  return file.endsWith('.hex') ? Buffer.from(raw.toString('latin1').replace(/\s+/g, ''), 'hex') : raw;
}

function runCase(file, report = (o) => process.stdout.write(`${JSON.stringify(o)}\n`)) {
  const nn = require(root);
  const { allocate } = require(path.join(root, 'dist', 'dtype'));
  let m;
  try {
    m = nn.loadOnnxSync(readCase(file));
  } catch (e) {
    return report({ outcome: isClean(e) ? 'error' : 'unclean', stage: 'load', message: String(e && e.message).slice(0, 300) });
  }
  try {
    const feeds = {};
    m.inputNames.forEach((name, i) => {
      // Symbolic or unknown dims: 1; at most 2^22 elements fed.
      const shape = m.inputShapes[i].map((d) => (d > 0 ? d : 1));
      const n = shape.reduce((a, b) => a * b, 1);
      if (n > 1 << 22) throw new RangeError(`fuzz: input "${name}" has ${n} elements, too many to feed`);
      const dtype = m.inputDtypes[i];
      // The types neonn holds widened are fed as their own arrays (strings as the numbers they spell).
      const widened = { int16: Int16Array, uint16: Uint16Array, bfloat16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array };
      if (dtype === 'string') {
        feeds[name] = { data: Array.from({ length: n }, (_, k) => String(k % 5)), shape };
        return;
      }
      const data = widened[dtype] ? new widened[dtype](n) : allocate(dtype, n);
      for (let k = 0; k < n; k++) data[k] = typeof data[k] === 'bigint' ? BigInt(k % 3) : dtype in widened ? k % 7 : ((k * 7919) % 17) / 17;
      feeds[name] = dtype === 'float32' ? nn.tensor(data, shape) : { data, shape, dtype };
    });
    m.runSync(feeds);
    report({ outcome: 'result' });
  } catch (e) {
    report({ outcome: isClean(e) ? 'error' : 'unclean', stage: 'run', message: String(e && e.message).slice(0, 300) });
  } finally {
    m.dispose();
  }
}

/** `--serve`: case paths on stdin, one JSON line each on stdout. */
function serve() {
  let buf = '';
  process.stdin.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const file = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      runCase(file);
    }
  });
}

// ---------------------------------------------------------------------------
// Mutations (parent side).

/** Deterministic PRNG (mulberry32). */
function rng(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (a) => a[int(a.length)];
  return { next, int, pick };
}

/** Sizes that break assumptions: empty, one, off by one, huge, negative. */
const NASTY = [0, 1, 2, 3, -1, -2, 7, 255, 256, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 1, 2 ** 40, -(2 ** 31)];

function byteMutation(r, bytes, other) {
  const b = Buffer.from(bytes);
  switch (r.int(3)) {
    case 0: {
      const flips = 1 + r.int(8);
      for (let i = 0; i < flips; i++) b[r.int(b.length)] ^= 1 << r.int(8);
      return { bytes: b, how: `flip ${flips} bit(s)` };
    }
    case 1: {
      const at = r.int(b.length);
      return { bytes: b.subarray(0, at), how: `truncate at ${at}` };
    }
    default: {
      const at = r.int(b.length);
      const from = r.int(other.length);
      return { bytes: Buffer.concat([b.subarray(0, at), other.subarray(from, from + r.int(4096))]), how: `splice at ${at}` };
    }
  }
}

function protoMutation(r, onnx, bytes) {
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph;
  if (!g) return null;
  const inits = g.initializer || [];
  const nodes = g.node || [];
  const names = [...new Set([...nodes.flatMap((n) => [...(n.input || []), ...(n.output || [])]), ...inits.map((t) => t.name)])];
  const kinds = ['dims', 'attribute', 'rawData', 'nodeInput', 'dtype', 'inputShape'];
  const kind = r.pick(kinds);
  let how = kind;
  if (kind === 'dims' && inits.length > 0) {
    const t = r.pick(inits);
    const dims = t.dims || [];
    if (dims.length > 0 && r.next() < 0.7) dims[r.int(dims.length)] = r.pick(NASTY);
    else dims.push(r.pick(NASTY));
    t.dims = dims;
    how = `dims of "${t.name}"`;
  } else if (kind === 'attribute' && nodes.length > 0) {
    const n = r.pick(nodes);
    const attrs = n.attribute || [];
    if (attrs.length === 0) return null;
    const a = r.pick(attrs);
    switch (r.int(4)) {
      case 0: a.i = r.pick(NASTY); break;
      case 1: a.ints = (a.ints && a.ints.length > 0 ? a.ints : [1]).map((v) => (r.next() < 0.5 ? r.pick(NASTY) : v)); break;
      case 2: a.type = r.int(16); break;
      default: a.ints = (a.ints || []).slice(0, r.int(4)); break;
    }
    how = `attribute "${a.name}" of ${n.opType}`;
  } else if (kind === 'rawData' && inits.some((t) => t.rawData && t.rawData.length > 0)) {
    const t = r.pick(inits.filter((x) => x.rawData && x.rawData.length > 0));
    const len = r.next() < 0.5 ? r.int(t.rawData.length) : t.rawData.length + 1 + r.int(64);
    const raw = Buffer.alloc(len);
    Buffer.from(t.rawData).copy(raw, 0, 0, Math.min(len, t.rawData.length));
    t.rawData = raw;
    how = `raw_data of "${t.name}" to ${len} bytes`;
  } else if (kind === 'nodeInput' && nodes.length > 0) {
    const n = r.pick(nodes);
    const ins = n.input || [];
    if (ins.length === 0 || names.length === 0) return null;
    const k = r.int(ins.length);
    ins[k] = r.next() < 0.2 ? '' : r.pick(names);
    n.input = r.next() < 0.2 ? ins.slice(0, k) : ins;
    how = `input ${k} of ${n.opType}`;
  } else if (kind === 'dtype') {
    const dts = [0, 1, 2, 3, 5, 6, 7, 9, 10, 11, 16, 99];
    if (inits.length > 0 && r.next() < 0.6) {
      const t = r.pick(inits);
      t.dataType = r.pick(dts);
      how = `data type of "${t.name}"`;
    } else if ((g.input || []).length > 0) {
      const i = r.pick(g.input);
      if (!i.type || !i.type.tensorType) return null;
      i.type.tensorType.elemType = r.pick(dts);
      how = `element type of input "${i.name}"`;
    } else {
      return null;
    }
  } else if (kind === 'inputShape' && (g.input || []).length > 0) {
    const i = r.pick(g.input);
    const dims = i.type && i.type.tensorType && i.type.tensorType.shape && i.type.tensorType.shape.dim;
    if (!dims || dims.length === 0) return null;
    // Sizes a run finishes within the time cap: a batch of 4096 is slow, not a hang.
    dims[r.int(dims.length)] = r.next() < 0.2 ? { dimParam: 'n' } : { dimValue: r.pick([0, 1, 2, 3, 5, 64]) };
    how = `shape of input "${i.name}"`;
  } else {
    return null;
  }
  return { bytes: Buffer.from(onnx.ModelProto.encode(model).finish()), how };
}

/** The seed models: { real, node } (real models, and the many small ONNX node tests). */
function seedFiles() {
  const dirs = (process.env.NEONN_FUZZ_SEEDS || path.resolve(root, '..', 'shared', 'real-models')).split(':');
  const files = [];
  const node = [];
  for (const d of dirs) {
    if (!fs.existsSync(d)) continue;
    for (const e of fs.readdirSync(d)) {
      const f = path.join(d, e, 'model.onnx');
      if (fs.existsSync(f)) files.push(f);
    }
  }
  const testdata = '/usr/share/libonnx-testdata/data/node';
  if (fs.existsSync(testdata)) {
    for (const e of fs.readdirSync(testdata)) {
      const f = path.join(testdata, e, 'model.onnx');
      if (fs.existsSync(f)) node.push(f);
    }
  }
  return { real: files, node };
}

// ---------------------------------------------------------------------------
// The pool (parent side).

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * A child that runs case files one after another (`--serve`: a path a line
 * in, a JSON line out), so a case costs its load and run, not a node start.
 * A child that dies takes the case it was running with it: a crash. Fresh
 * every 100 cases, so no case is blamed for the memory of others.
 */
class Runner {
  /** `env`: the children's environment (the sanitizer build's, under --asan). */
  constructor(timeoutMs, maxRssMb, env) {
    this.timeoutMs = timeoutMs;
    this.maxRssMb = maxRssMb;
    this.env = env;
    this.child = null;
    this.served = 0;
  }

  start() {
    const child = spawn(process.execPath, [__filename, '--serve'], { stdio: ['pipe', 'pipe', 'pipe'], env: this.env });
    this.child = child;
    this.served = 0;
    this.out = '';
    this.err = '';
    this.pending = null;
    child.stdout.on('data', (d) => {
      this.out += d;
      const nl = this.out.indexOf('\n');
      if (nl >= 0 && this.pending) {
        const line = this.out.slice(0, nl);
        this.out = this.out.slice(nl + 1);
        let parsed = null;
        try {
          parsed = JSON.parse(line);
        } catch {
          parsed = null;
        }
        this.finish(parsed && typeof parsed.outcome === 'string' ? { kind: 'ok', outcome: parsed.outcome, detail: parsed.message } : { kind: 'crash', detail: `bad output: ${line.slice(0, 200)}` });
      }
    });
    child.stderr.on('data', (d) => (this.err = (this.err + d).slice(-4000)));
    child.on('close', (code, signal) => {
      if (this.child === child) this.child = null;
      if (this.pending && this.pending.child === child) {
        const killed = this.pending.killed;
        this.finish(killed ? { kind: killed, detail: killed === 'hang' ? `over ${this.timeoutMs} ms` : `RSS over ${this.maxRssMb} MB` } : { kind: 'crash', detail: `exit ${code} signal ${signal}: ${this.err.trim().split('\n').slice(-5).join(' | ')}` });
      }
    });
  }

  finish(result) {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(p.timer);
    clearInterval(p.watch);
    if (result.kind !== 'ok' && this.child === p.child) {
      p.child.kill('SIGKILL');
      this.child = null;
    }
    p.resolve(result);
  }

  /** Runs one case file; resolves { kind: ok | crash | hang | memory, outcome?, detail }. */
  run(file) {
    if (!this.child || this.served >= 100) {
      if (this.child) this.child.stdin.end();
      this.start();
    }
    this.served++;
    this.err = '';
    const child = this.child;
    return new Promise((resolve) => {
      const p = { child, resolve, killed: null };
      p.timer = setTimeout(() => {
        p.killed = 'hang';
        child.kill('SIGKILL');
      }, this.timeoutMs);
      p.watch = setInterval(() => {
        if (rssMb(child.pid) > this.maxRssMb) {
          p.killed = 'memory';
          child.kill('SIGKILL');
        }
      }, 50);
      this.pending = p;
      child.stdin.write(`${file}\n`);
    });
  }

  stop() {
    if (this.child) this.child.stdin.end();
  }
}

function arg(args, name, dflt) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
}

async function fuzz(args) {
  const seconds = Number(arg(args, 'seconds', '60'));
  const jobs = Number(arg(args, 'jobs', String(Math.max(1, os.cpus().length))));
  const asan = args.includes('--asan');
  // The sanitizer build runs some 3x slower and holds more memory (shadow, quarantine).
  const timeoutMs = Number(arg(args, 'timeout-ms', asan ? '30000' : '10000'));
  const maxRssMb = Number(arg(args, 'max-rss-mb', asan ? '3000' : '1500'));
  // ASan reports abort the child (a crash here); their log copies are not needed after.
  const logs = asan ? fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-fuzz-asan-')) : null;
  const env = asan ? { ...process.env, ...require('./test-asan').sanitizerEnv(logs) } : process.env;
  const seed = Number(arg(args, 'seed', String(Date.now() % 2 ** 31)));
  const corpusDir = path.resolve(arg(args, 'corpus', defaultCorpus));
  const { onnx } = require(path.join(root, 'dist', 'onnx', 'proto'));
  const { real, node } = seedFiles();
  const seeds = [...real, ...node];
  if (seeds.length === 0) {
    console.error('fuzz: no seed models (../shared/real-models, NEONN_FUZZ_SEEDS or libonnx-testdata)');
    process.exit(2);
  }
  const r = rng(seed);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-fuzz-'));
  fs.mkdirSync(corpusDir, { recursive: true });
  const known = new Set(fs.readdirSync(corpusDir));
  const counts = { cases: 0, result: 0, error: 0, unclean: 0, crash: 0, hang: 0, memory: 0, slow: 0 };
  const found = [];
  const unclean = new Map();
  const end = Date.now() + seconds * 1000;
  console.log(`fuzz: ${real.length} real and ${node.length} node-test seed models, ${jobs} jobs, ${seconds} s, seed ${seed}${asan ? ', sanitizer build' : ''}`);
  // Half the cases from the few real models: the hundreds of node tests would drown them.
  const pickSeed = () => (real.length > 0 && (node.length === 0 || r.next() < 0.5) ? r.pick(real) : r.pick(node));

  async function worker(w) {
    const runner = new Runner(timeoutMs, maxRssMb, env);
    for (let n = 0; Date.now() < end; n++) {
      const file = pickSeed();
      const bytes = fs.readFileSync(file);
      let m = null;
      try {
        m = r.next() < 0.35 ? byteMutation(r, bytes, fs.readFileSync(r.pick(seeds))) : protoMutation(r, onnx, bytes);
      } catch {
        m = null;
      }
      if (!m) continue;
      const caseFile = path.join(tmp, `w${w}-${n}.onnx`);
      fs.writeFileSync(caseFile, m.bytes);
      let res = await runner.run(caseFile);
      if (res.kind === 'hang') {
        // Over the cap once: run it again alone in a fresh child with three times the time, so that a case slowed by
        // the other job (or by anything else on a busy machine: auto measuring a large model cold) is not called a
        // hang. Only one slow twice is.
        const confirm = new Runner(timeoutMs * 3, maxRssMb, env);
        const again = await confirm.run(caseFile);
        confirm.stop();
        if (again.kind === 'ok') {
          counts.slow++;
          console.log(`fuzz: slow, not hung: ${path.basename(path.dirname(file))}, ${m.how}: over ${timeoutMs} ms once, then finished within ${timeoutMs * 3} ms`);
          res = again;
        } else if (again.kind !== 'hang') {
          res = again;
        }
      }
      counts.cases++;
      if (res.kind === 'ok') {
        counts[res.outcome] = (counts[res.outcome] || 0) + 1;
        if (res.outcome === 'unclean' && unclean.size < 20) unclean.set(res.detail, `${path.basename(path.dirname(file))}: ${m.how}`);
      } else {
        counts[res.kind]++;
        const name = `${res.kind}-${crypto.createHash('sha1').update(m.bytes).digest('hex').slice(0, 12)}.onnx.hex`;
        if (!known.has(name)) {
          known.add(name);
          fs.writeFileSync(path.join(corpusDir, name), toHex(m.bytes));
          found.push(`${name}: ${path.basename(path.dirname(file))}, ${m.how}: ${res.detail}`);
          console.log(`fuzz: NEW ${res.kind}: ${path.relative(root, path.join(corpusDir, name))} (${path.basename(path.dirname(file))}, ${m.how}) ${res.detail}`);
        }
      }
      fs.rmSync(caseFile, { force: true });
    }
    runner.stop();
  }
  await Promise.all(Array.from({ length: jobs }, (_, w) => worker(w)));
  fs.rmSync(tmp, { recursive: true, force: true });
  if (logs) fs.rmSync(logs, { recursive: true, force: true });
  console.log(`fuzz: ${JSON.stringify(counts)}`);
  for (const [msg, how] of unclean) console.log(`fuzz: unclean error (${how}): ${msg}`);
  if (found.length > 0) {
    console.log(`fuzz: ${found.length} new case(s) saved to ${corpusDir}:\n  ${found.join('\n  ')}`);
    process.exit(1);
  }
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const c = arg(args, 'case', null);
  if (c !== null) runCase(c);
  else if (args.includes('--serve')) serve();
  else fuzz(args).catch((e) => {
    console.error(e);
    process.exit(2);
  });
}

module.exports = { isClean };
