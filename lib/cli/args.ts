/**
 * The CLI's argument parser: every command declares its flags, so an unknown
 * flag, a missing value or a bad one is a {@link UsageError} (one line on
 * stderr, exit code 2) before any work starts.
 */

/** A wrong command line; the CLI prints its message alone and exits with 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `'bool'`: a switch; `'value'`: takes the next argument (or `--flag=value`). */
export type FlagKind = 'bool' | 'value';

/** A command's declared interface. */
export interface CommandSpec {
  name: string;
  /** One paragraph of help, printed by `neonn <name> --help`. */
  help: string;
  flags: Readonly<Record<string, FlagKind>>;
  /** How many positional arguments: [min, max]. */
  positionals: [number, number];
  /** Name of the positionals in messages, e.g. `model.onnx`. */
  positionalName?: string;
}

/** The parsed command line. */
export interface Parsed {
  flags: Map<string, string | true>;
  positionals: string[];
}

/** Parses `args` against `spec`; `--help`/`-h` is always allowed. */
export function parseArgs(spec: CommandSpec, args: readonly string[]): Parsed {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') {
      flags.set('--help', true);
      continue;
    }
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const kind = spec.flags[name];
    if (kind === undefined) {
      const known = Object.keys(spec.flags);
      throw new UsageError(`neonn ${spec.name}: unknown flag ${name}${known.length ? ` (known: ${known.join(' ')})` : ' (it takes none)'}`);
    }
    if (flags.has(name)) throw new UsageError(`neonn ${spec.name}: ${name} given twice`);
    if (kind === 'bool') {
      if (eq > 0) throw new UsageError(`neonn ${spec.name}: ${name} takes no value`);
      flags.set(name, true);
    } else {
      const value = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new UsageError(`neonn ${spec.name}: ${name} needs a value`);
      flags.set(name, value);
    }
  }
  if (flags.has('--help')) return { flags, positionals };
  const [min, max] = spec.positionals;
  const what = spec.positionalName ?? 'argument';
  if (positionals.length < min) throw new UsageError(`neonn ${spec.name}: missing ${what}`);
  if (positionals.length > max) {
    throw new UsageError(`neonn ${spec.name}: unexpected argument ${JSON.stringify(positionals[max])}${max === 0 ? ' (it takes none)' : ''}`);
  }
  return { flags, positionals };
}

/** A positive integer flag value. */
export function intValue(cmd: string, flag: string, v: string, min = 1): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`neonn ${cmd}: ${flag} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

/** A finite number, or a fraction `a/b` (e.g. `--scale 1/255`). */
export function numberValue(cmd: string, flag: string, v: string): number {
  const m = /^(-?[\d.]+(?:e-?\d+)?)(?:\/([\d.]+(?:e-?\d+)?))?$/i.exec(v.trim());
  const n = m ? Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2])) : NaN;
  if (!Number.isFinite(n)) throw new UsageError(`neonn ${cmd}: ${flag} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

/** Comma-separated numbers, 1 or `count` of them. */
export function numberList(cmd: string, flag: string, v: string, count: number): number[] {
  const parts = v.split(',');
  if (parts.length !== 1 && parts.length !== count) {
    throw new UsageError(`neonn ${cmd}: ${flag} takes 1 or ${count} comma-separated numbers, got ${JSON.stringify(v)}`);
  }
  return parts.map((p) => numberValue(cmd, flag, p));
}

/** `HxW`, e.g. `240x320`. */
export function sizeValue(cmd: string, flag: string, v: string): [number, number] {
  const m = /^(\d+)[xX×](\d+)$/.exec(v);
  const h = m ? Number(m[1]) : 0, w = m ? Number(m[2]) : 0;
  if (!m || h < 1 || w < 1 || h > 65535 || w > 65535) throw new UsageError(`neonn ${cmd}: ${flag} must be HxW (e.g. 240x320), got ${JSON.stringify(v)}`);
  return [h, w];
}

/** A comma list of non-empty names. */
export function nameList(cmd: string, flag: string, v: string): string[] {
  const parts = v.split(',');
  if (parts.some((p) => p.trim() === '')) throw new UsageError(`neonn ${cmd}: ${flag} takes comma-separated names, got ${JSON.stringify(v)}`);
  return parts;
}
