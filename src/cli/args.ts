// A small command-line parser for runc's flag forms (Go's flag package via urfave/cli):
// `--name value`, `--name=value`, `-name value`, `-n value`, `-n=value`, boolean
// `--name` / `--name=false`, `--` ending the flags, and flags mixed with positional
// arguments (urfave reorders them) unless the command stops at its first positional one.
// Pure: never reads the environment, prints or exits; errors are CliError CLI_USAGE.

import { CliError } from './errors.js';

export interface FlagSpec {
  name: string;
  short?: string;
  kind: 'bool' | 'string';
}

export interface ParsedArgs {
  flags: Map<string, string | boolean>;
  positionals: string[];
}

export interface ParseOptions {
  /** Everything from the first positional argument on is positional (global flags, `do`). */
  stopAtPositional?: boolean;
}

function findSpec(specs: readonly FlagSpec[], name: string): FlagSpec | undefined {
  return specs.find((s) => s.name === name || s.short === name);
}

function parseBool(flag: string, v: string): boolean {
  if (v === 'true' || v === '1' || v === 't' || v === 'T' || v === 'TRUE' || v === 'True') {
    return true;
  }
  if (v === 'false' || v === '0' || v === 'f' || v === 'F' || v === 'FALSE' || v === 'False') {
    return false;
  }
  throw new CliError('CLI_USAGE', `invalid value "${v}" for flag -${flag}: not a boolean`);
}

export function parseArgs(
  argv: readonly string[],
  specs: readonly FlagSpec[],
  opts: ParseOptions = {},
): ParsedArgs {
  const flags = new Map<string, string | boolean>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      if (opts.stopAtPositional) {
        positionals.push(...argv.slice(i));
        break;
      }
      positionals.push(arg);
      continue;
    }
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    const spec = name === '' ? undefined : findSpec(specs, name);
    if (spec === undefined) {
      throw new CliError('CLI_USAGE', `flag provided but not defined: ${arg.split('=')[0] ?? arg}`);
    }
    if (spec.kind === 'bool') {
      flags.set(spec.name, inline === undefined ? true : parseBool(name, inline));
      continue;
    }
    if (inline !== undefined) {
      flags.set(spec.name, inline);
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined) throw new CliError('CLI_USAGE', `flag needs an argument: ${arg}`);
    flags.set(spec.name, next);
    i++;
  }
  return { flags, positionals };
}

export function stringFlag(p: ParsedArgs, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function boolFlag(p: ParsedArgs, name: string): boolean {
  return p.flags.get(name) === true;
}

/** The one positional argument a command takes (the container id); usage error otherwise. */
export function exactlyOne(p: ParsedArgs, command: string, what = 'container id'): string {
  const first = p.positionals[0];
  if (p.positionals.length !== 1 || first === undefined) {
    throw new CliError(
      'CLI_USAGE',
      `${command}: expected exactly 1 argument (${what}), got ${p.positionals.length}`,
    );
  }
  return first;
}
