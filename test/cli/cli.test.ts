// The built CLI (dist/cli.js, `npm test` builds it first) as a user runs it:
// a child process, its stdout, stderr and exit code.
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const MODELS = path.resolve(ROOT, '../shared/real-models');
const IMAGES = path.join(MODELS, 'images');
const model = (name: string): string => path.join(MODELS, name, 'model.onnx');
const f32 = (file: string): Float32Array => {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};
const argmax = (d: Float32Array): number => d.reduce((best, v, i) => (v > d[best] ? i : best), 0);

function neonn(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: os.tmpdir(), timeout: 120000 });
}

describe('neonn: version, help', () => {
  test('--version prints the package version', () => {
    const r = neonn('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
  });
  test.each(['run', 'inspect', 'bench', 'info', 'build', 'quantize'])('neonn %s --help prints its usage and exits 0', (cmd) => {
    const r = neonn(cmd, '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: neonn ${cmd}`));
    expect(neonn('help', cmd).stdout).toBe(r.stdout);
  });
  test('--help lists the commands; no command at all is a usage error', () => {
    expect(neonn('--help').stdout).toMatch(/run .*\n\s+inspect /);
    const r = neonn();
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/^usage: neonn <command>/);
  });
});

describe('neonn: usage errors are one line on stderr, exit code 2, before any work', () => {
  const dummy = path.join(os.tmpdir(), 'never-read.onnx');
  test.each([
    [['frobnicate'], /^neonn: unknown command "frobnicate"; commands: info, bench, build, run, inspect/],
    [['--frobnicate'], /^neonn: unknown option "--frobnicate"/],
    [['help', 'nope'], /^neonn help: unknown command "nope"/],
    [['bench', '--runs', 'abc'], /^neonn bench: --runs must be an integer >= 1, got "abc"$/],
    [['bench', '--runs', '0'], /^neonn bench: --runs must be an integer >= 1, got "0"$/],
    [['bench', '--runs'], /^neonn bench: --runs needs a value$/],
    [['bench', '--quick', '--frob'], /^neonn bench: unknown flag --frob \(known: --quick --models/],
    [['bench', '--models', 'a,,b'], /^neonn bench: --models takes comma-separated names/],
    [['bench', 'extra'], /^neonn bench: unexpected argument "extra" \(it takes none\)$/],
    [['bench', '--models', 'missing/model.onnx'], /^neonn bench: --models: no such file "missing\/model\.onnx"$/],
    [['bench', '--size', '320'], /^neonn bench: --size must be HxW \(e\.g\. 320x320\), got "320"$/],
    [['info', '--verbose'], /^neonn info: unknown flag --verbose \(known: --json\)$/],
    [['build', '--fast'], /^neonn build: unknown flag --fast \(it takes none\)$/],
    [['run'], /^neonn run: missing model\.onnx$/],
    [['run', dummy], /^neonn run: give one of --image <photo> or --input <file>$/],
    [['run', dummy, '--image', 'a.jpg', '--input', 'x.npy'], /^neonn run: give one of --image/],
    [['run', dummy, '--imgae', 'a.jpg'], /^neonn run: unknown flag --imgae/],
    [['run', dummy, '--image', 'a.jpg', '--size', '240'], /^neonn run: --size must be HxW \(e\.g\. 240x320\), got "240"$/],
    [['run', dummy, '--image', 'a.jpg', '--mean', '1,2'], /^neonn run: --mean takes 1 or 3 comma-separated numbers, got "1,2"$/],
    [['run', dummy, '--image', 'a.jpg', '--std', 'x'], /^neonn run: --std must be a number, got "x"$/],
    [['run', dummy, '--image', 'a.jpg', '--top', '0'], /^neonn run: --top must be an integer >= 1, got "0"$/],
    [['run', dummy, '--image', 'a.jpg', '--fit', 'stretch'], /^neonn run: --fit must be fill, contain or cover/],
    [['run', dummy, '--input', 'x.npy', '--bgr'], /^neonn run: --bgr applies to --image only$/],
    [['run', dummy, '--image', 'a.jpg', '--bgr', '--bgr'], /^neonn run: --bgr given twice$/],
    [['run', dummy, '--json=yes', '--image', 'a.jpg'], /^neonn run: --json takes no value$/],
    [['run', dummy, '--image', 'a.jpg', '--shape', '1x3'], /^neonn run: --shape applies to --input only$/],
    [['run', dummy, '--input', 'x.f32', '--shape', '1x3xq'], /^neonn run: --shape must be an integer >= 1, got "q"$/],
    [['run', dummy, '--image', 'a.jpg', '--boxes', 'b'], /^neonn run: --boxes applies to --draw only$/],
    [['run', dummy, '--input', 'x.f32', '--draw', 'o.jpg', '--boxes', 'b', '--scores', 's'], /^neonn run: --draw needs --image \(the photo to draw on\)$/],
    [['run', dummy, '--image', 'a.jpg', '--draw', 'o.gif', '--boxes', 'b', '--scores', 's'], /^neonn run: --draw writes \.jpg or \.png, got "o\.gif"$/],
    [['run', dummy, '--image', 'a.jpg', '--draw', 'o.jpg', '--boxes', 'b'], /^neonn run: --draw needs --boxes <output> and --scores <output>$/],
    [['run', dummy, '--image', 'a.jpg', '--draw', 'o.jpg', '--boxes', 'b', '--scores', 's', '--box-format', 'ltrb'], /^neonn run: --box-format must be xyxy, xywh or cxcywh, got "ltrb"$/],
    [['run', dummy, '--image', 'a.jpg', '--draw', 'o.jpg', '--boxes', 'b', '--scores', 's', '--iou', '2'], /^neonn run: --iou must be from 0 to 1, got "2"$/],
    [['inspect'], /^neonn inspect: missing model\.onnx$/],
    [['inspect', 'a.onnx', 'b.onnx'], /^neonn inspect: unexpected argument "b\.onnx"$/],
  ])('neonn %p', (args, message) => {
    const r = neonn(...(args as string[]));
    expect(r.stderr.trim()).toMatch(message as RegExp);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
  });
  test('a failure of the work (a missing file) is one line and exit code 1', () => {
    const r = neonn('run', path.join(os.tmpdir(), 'no-such-model.onnx'), '--input', 'x.f32');
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^neonn: .*no-such-model\.onnx/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('neonn run', () => {
  test('a classifier on a photo: top-5, same best class as onnxruntime on the reference input', () => {
    const r = neonn('run', model('mobilenetv2_int8'), '--image', path.join(IMAGES, 'dog.jpg'), '--scale', '1/255',
      '--mean', '0.485,0.456,0.406', '--std', '0.229,0.224,0.225');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/input "input" \[1,3,224,224\] from .*dog\.jpg \(768x576, fill, rgb\); ran in [\d.]+ ms/);
    expect(lines[1]).toMatch(/^output {2}\[1,1000\] float32 {2}min -?[\d.]+ {2}max [\d.]+ {2}mean /);
    const top = /top 5: #(\d+) /.exec(lines[2]);
    expect(Number(top![1])).toBe(argmax(f32(path.join(MODELS, 'mobilenetv2_int8', 'output_0.f32'))));
    expect(lines[2].match(/#\d+ [-\d.]+ \(p [\d.e-]+\)/g)).toHaveLength(5);
  });
  test('--json: a detector (ulfd_rfb320) on faces1.jpg, stats near onnxruntime\'s', () => {
    const r = neonn('run', model('ulfd_rfb320'), '--image', path.join(IMAGES, 'faces1.jpg'), '--mean', '127', '--std', '128', '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    const io = JSON.parse(readFileSync(path.join(MODELS, 'ulfd_rfb320', 'io.json'), 'utf8'));
    expect(j.outputs.map((o: { name: string; shape: number[] }) => [o.name, o.shape])).toEqual(io.outputs.map((o: { name: string; shape: number[] }) => [o.name, o.shape]));
    expect(j.outputs[0].max).toBeCloseTo(io.outputs[0].stats.max, 2);
    expect(j.outputs[1].mean).toBeCloseTo(io.outputs[1].stats.mean, 2);
    expect(j.outputs[0].top).toBeUndefined(); // [1, 4420, 2] is no classifier output
    expect(j.input).toMatchObject({ name: 'input', shape: [1, 3, 240, 320] });
  });
  test('--input: the stored .f32 and the same as .npy give the reference argmax (mnist8)', () => {
    const dir = path.join(MODELS, 'mnist8');
    const want = argmax(f32(path.join(dir, 'output_0.f32')));
    const raw = neonn('run', model('mnist8'), '--input', path.join(dir, 'input_0.f32'), '--top', '3', '--json');
    expect(raw.status).toBe(0);
    const a = JSON.parse(raw.stdout).outputs[0];
    expect(a.top).toHaveLength(3);
    expect(a.top[0].index).toBe(want);
    // the same data as a NumPy v1.0 .npy
    const data = readFileSync(path.join(dir, 'input_0.f32'));
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 28, 28), }";
    header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
    const pre = Buffer.alloc(10);
    pre.write('\x93NUMPY', 0, 'latin1');
    pre[6] = 1;
    pre.writeUInt16LE(header.length, 8);
    const npy = path.join(mkdtempSync(path.join(os.tmpdir(), 'neonn-cli-')), 'x.npy');
    writeFileSync(npy, Buffer.concat([pre, Buffer.from(header, 'latin1'), data]));
    const n = JSON.parse(neonn('run', model('mnist8'), '--input', npy, '--top', '3', '--json').stdout).outputs[0];
    // Same input, same ranking; the values to float rounding: each process's auto measures for itself and may
    // run a conv on another path (XNNPACK or OpenBLAS) that sums in another order.
    type Top = { index: number; value: number; p: number };
    expect((n.top as Top[]).map((t) => t.index)).toEqual((a.top as Top[]).map((t) => t.index));
    (n.top as Top[]).forEach((t, k) => {
      expect(t.value).toBeCloseTo((a.top as Top[])[k].value, 4);
      expect(t.p).toBeCloseTo((a.top as Top[])[k].p, 5);
    });
    // a wrong length is one clear line
    writeFileSync(npy + '.f32', data.subarray(0, 400));
    const bad = neonn('run', model('mnist8'), '--input', npy + '.f32');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^neonn run: .*x\.npy\.f32 holds 100 floats; input "Input3" \[1,1,28,28\] needs 784\n$/);
  });
  test('symbolic height and width: --size is needed, then all twelve outputs of yunet print', () => {
    const noSize = neonn('run', model('yunet'), '--image', path.join(IMAGES, 'selfie.jpg'));
    expect(noSize.status).toBe(2);
    expect(noSize.stderr).toMatch(/has a symbolic height or width; give --size HxW/);
    const r = neonn('run', model('yunet'), '--image', path.join(IMAGES, 'selfie.jpg'), '--size', '320x320', '--bgr', '--fit', 'contain');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\[1,3,320,320\] from .*selfie\.jpg \(2048x1150, contain, bgr\)/);
    expect(r.stdout.match(/^(cls|obj|bbox|kps)_(8|16|32) +\[1,\d+,\d+\] float32/gm)).toHaveLength(12);
  });
});

describe('every shared real model', () => {
  const names = ['mnist8', 'mobilenetv2_int8', 'nanodet_m', 'ppocr_cls', 'ppocr_det', 'retinaface_qdq', 'teams_bgseg', 'ulfd_rfb320', 'yunet'];
  test.each(names)('%s: run --input (its stored input, --shape for symbolic dims) and inspect', (name) => {
    const io = JSON.parse(readFileSync(path.join(MODELS, name, 'io.json'), 'utf8'));
    const shape = io.inputs[0].shape.join('x');
    const r = neonn('run', model(name), '--input', path.join(MODELS, name, 'input_0.f32'), '--shape', shape, '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.outputs.map((o: { name: string; shape: number[] }) => [o.name, o.shape]))
      .toEqual(io.outputs.map((o: { name: string; shape: number[] }) => [o.name, o.shape]));
    const ins = neonn('inspect', model(name), '--json');
    expect(ins.status).toBe(0);
    const k = JSON.parse(ins.stdout);
    expect(k.inputs.map((i: { name: string }) => i.name)).toEqual(io.inputs.map((i: { name: string }) => i.name));
    expect(k.outputs.map((o: { name: string }) => o.name)).toEqual(io.outputs.map((o: { name: string }) => o.name));
    expect(Object.values(k.ops as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(k.nodes);
  });
});

describe('neonn inspect', () => {
  test('symbolic dims, op counts and what neonn runs', () => {
    const r = neonn('inspect', model('yunet'));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^inputs:\n {2}input {2}float \[1, 3, \S+, \S+\]$/m);
    expect(r.stdout).toMatch(/^ops:\n {2}Conv \d+/m);
    expect(r.stdout).toMatch(/compiled at the first run/);
    const s = neonn('inspect', model('ulfd_rfb320'), '--json');
    const j = JSON.parse(s.stdout);
    expect(j.inputs).toEqual([{ name: 'input', dtype: 'float', dims: [1, 3, 240, 320] }]);
    expect(j.outputs.map((o: { name: string }) => o.name)).toEqual(['scores', 'boxes']);
    expect(j.ops).toMatchObject({ Conv: 52, Softmax: 1, Exp: 1 });
    expect(j.neonn.steps).toBeGreaterThan(0);
    expect(Object.keys(j.neonn.byBackend).length).toBeGreaterThan(0);
  });
  test('a file that is no model: exit 1, one line', () => {
    const bad = path.join(mkdtempSync(path.join(os.tmpdir(), 'neonn-cli-')), 'bad.onnx');
    writeFileSync(bad, 'not a model');
    const r = neonn('inspect', bad);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^neonn: loadOnnx: not a valid ONNX model/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('neonn bench --models <file.onnx>: a user model, results in the current directory', () => {
  test('a fixed-size model runs on the named backend and its JSON lands in ./neonn-bench/', () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'neonn-bench-cli-'));
    const r = spawnSync(process.execPath, [CLI, 'bench', '--models', model('mnist8'), '--backends', 'reference', '--runs', '1'], { encoding: 'utf8', cwd, timeout: 240000 });
    expect(r.stderr).not.toMatch(/Error|failed:/);
    expect(r.status).toBe(0);
    const out = JSON.parse(readFileSync(path.join(cwd, 'neonn-bench', 'models.json'), 'utf8')) as { rows: { model: string; runtime: string; backend: string; medianMs: number }[] };
    const mine = out.rows.filter((row) => row.runtime === 'neonn');
    expect(mine.length).toBeGreaterThan(0);
    for (const row of mine) {
      expect(row).toMatchObject({ model: 'mnist8', backend: 'reference' });
      expect(row.medianMs).toBeGreaterThan(0);
    }
    expect(readFileSync(path.join(cwd, 'neonn-bench', 'models.svg'), 'utf8')).toMatch(/^<svg/);
  });

  test('a model with symbolic H and W asks for --size: one line, exit 2, nothing written', () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'neonn-bench-cli-'));
    const r = spawnSync(process.execPath, [CLI, 'bench', '--models', model('yunet'), '--backends', 'reference', '--runs', '1'], { encoding: 'utf8', cwd, timeout: 120000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/^neonn bench: .*yunet\/model\.onnx: input "input" has symbolic dim height .*give --size HxW$/);
    expect(existsSync(path.join(cwd, 'neonn-bench'))).toBe(false);
  });
});

describe('neonn run --draw: a detector\'s boxes after NMS, drawn on the photo', () => {
  test('ulfd_rfb320 on faces1.jpg: faces found, boxes in the photo, a PNG of the photo\'s size written', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'neonn-draw-'));
    const out = path.join(dir, 'faces.png');
    const r = neonn('run', model('ulfd_rfb320'), '--image', path.join(IMAGES, 'faces1.jpg'), '--mean', '127', '--std', '128', '--json',
      '--draw', out, '--boxes', 'boxes', '--scores', 'scores', '--normalized', '--score-threshold', '0.7', '--iou', '0.3');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { detections: { box: number[]; score: number; classId: number }[] };
    const png = readFileSync(out);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    // The photo's own size: the boxes were mapped back from the 320x240 input.
    expect(report.detections.length).toBeGreaterThanOrEqual(40);
    let last = Infinity;
    for (const d of report.detections) {
      expect(d.classId).toBe(1);
      expect(d.score).toBeGreaterThanOrEqual(0.7);
      expect(d.score).toBeLessThanOrEqual(last);
      last = d.score;
      const [x1, y1, x2, y2] = d.box;
      expect(x1).toBeLessThan(x2);
      expect(y1).toBeLessThan(y2);
      expect(x1).toBeGreaterThan(-5);
      expect(y1).toBeGreaterThan(-5);
      expect(x2).toBeLessThan(width + 5);
      expect(y2).toBeLessThan(height + 5);
      // Faces in this group photo are 15-60 px boxes, not the 320x240 input's scale.
      expect(x2 - x1).toBeGreaterThan(8);
      expect(x2 - x1).toBeLessThan(80);
    }
    expect(width).toBeGreaterThan(320);
  });
});
