#!/usr/bin/env node
// Writes the README's table of supported ONNX ops from the op schema
// (lib/ir/schema) and the importer's hand-written handlers (lib/onnx/ops.ts),
// between the markers <!-- op-table:start --> and <!-- op-table:end -->.
// `--check` exits 1 when the README is out of date (test/unit/op-table.test.ts).
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');

function table() {
  const { SCHEMA } = require(path.join(root, 'dist/ir/schema'));
  const { HANDLED_OPS } = require(path.join(root, 'dist/onnx/ops'));
  const rows = new Map();
  for (const s of SCHEMA.values()) {
    const name = s.domain ? `${s.domain}.${s.name}` : s.name;
    const dtypes = [...new Set(s.inputs.flatMap((i) => i.dtypes))].join(', ');
    const attrs = Object.keys(s.attrs).join(', ') || '—';
    rows.set(name, { name, dtypes, attrs, path: HANDLED_OPS.includes(name) ? 'fast path + kernel' : 'kernel', doc: s.doc });
  }
  // Data-dependent output shapes: computed in TS between the planned program segments (lib/onnx/segments.ts).
  const { DATA_DEPENDENT } = require(path.join(root, 'dist/onnx/dynamic'));
  for (const [name, d] of Object.entries(DATA_DEPENDENT)) rows.set(name, { name, dtypes: d.dtypes, attrs: d.attrs, path: 'between segments', doc: d.doc });
  for (const name of HANDLED_OPS) {
    if (!rows.has(name)) rows.set(name, { name, dtypes: 'float32', attrs: '(see ONNX)', path: 'fast path', doc: '' });
  }
  const lines = [
    `${rows.size} ops. *fast path*: mapped onto the backend-dispatched kernels (OpenBLAS, NNPACK, XNNPACK, auto); *kernel*: the op schema's generic kernel (every other form); *between segments*: an output shape that depends on the data, computed between the planned programs before and after it.`,
    '',
    '| op | input dtypes | attributes | runs on | what |',
    '|---|---|---|---|---|',
  ];
  for (const r of [...rows.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    lines.push(`| ${r.name} | ${r.dtypes} | ${r.attrs} | ${r.path} | ${r.doc.replace(/\|/g, '\\|')} |`);
  }
  return lines.join('\n');
}

function main() {
  const readme = path.join(root, 'README.md');
  const text = fs.readFileSync(readme, 'utf8');
  const start = '<!-- op-table:start -->';
  const end = '<!-- op-table:end -->';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) {
    console.error(`op-table: README.md has no ${start} ... ${end} block`);
    process.exit(2);
  }
  const next = `${text.slice(0, a + start.length)}\n${table()}\n${text.slice(b)}`;
  if (process.argv.includes('--check')) {
    if (next !== text) {
      console.error('op-table: README.md is out of date: run `node scripts/op-table.js`');
      process.exit(1);
    }
    return;
  }
  fs.writeFileSync(readme, next);
}

main();
