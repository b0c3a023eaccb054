// Option parsing shared by every verb: --fleet, --json and --help come for free.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UserError } from "../common/problems.js";
import { DEFAULT_FLEET } from "../registry/fleet.js";
import { didYouMean } from "../common/suggest.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface Common {
  fleet: string;
  json: boolean;
}

const COMMON: Options = {
  fleet: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

export const COMMON_HELP = `  --fleet FILE   the fleet registry (default ./${DEFAULT_FLEET})
  --json         print the result as JSON
  -h, --help     show this help`;

/** The usage error of parseArgs, with "did you mean" for a mistyped option. */
function usageError(verb: string, e: Error & { code?: string }, options: Options): UserError {
  const first = e.message.split("\n")[0].split(/\. /)[0].replace(/\.$/, "");
  const typed = /'(-[^']*)'/.exec(first)?.[1];
  const hint =
    e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && typed?.startsWith("--")
      ? didYouMean(
          typed,
          Object.keys(options).map((o) => `--${o}`),
        )
      : "";
  return new UserError(`${verb}: ${first}${hint}; see po ${verb} --help`);
}

/**
 * Parses a verb's argv; returns undefined after printing the help when --help was asked. A verb
 * that takes at most `maxPositionals` arguments refuses more as a usage error.
 */
export function parseVerb<O extends Options>(
  verb: string,
  argv: string[],
  options: O,
  help: string,
  maxPositionals = Infinity,
): { values: Record<string, unknown> & Common; positionals: string[] } | undefined {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  const all = { ...COMMON, ...options };
  try {
    parsed = parseArgs({ args: argv, options: all, allowPositionals: true, strict: true });
  } catch (e) {
    throw usageError(verb, e as Error, all);
  }
  if (parsed.values.help) {
    process.stdout.write(help.endsWith("\n") ? help : `${help}\n`);
    return undefined;
  }
  const extra = parsed.positionals[maxPositionals];
  if (extra !== undefined) throw new UserError(`${verb}: unexpected argument '${extra}'; see po ${verb} --help`);
  const values = parsed.values;
  return {
    values: {
      ...values,
      fleet: (values.fleet as string | undefined) ?? process.env.PO_FLEET ?? DEFAULT_FLEET,
      json: Boolean(values.json),
    },
    positionals: parsed.positionals,
  };
}

/** Repeated string option as an array. */
export function many(value: unknown): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** A whole-number option of at least `min`, or `fallback` when it is not given. */
export function wholeNumber(verb: string, name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new UserError(`${verb}: --${name} must be a whole number of ${min} or more, not '${String(value)}'`);
  return n;
}

/** The options that choose projects, shared by plan, apply and status (names may also be positional). */
export const SELECT_OPTIONS = {
  target: { type: "string", multiple: true },
  exclude: { type: "string", multiple: true },
} as const;

export const SELECT_HELP = `  NAME…                only these projects (or --target NAME, repeatable)
  --exclude NAME       leave this project out (repeatable)`;

/** The projects named as positionals or with --target, and those --exclude leaves out. */
export function selection(values: Record<string, unknown>, names: string[]): { targets: string[]; exclude: string[] } {
  return { targets: [...new Set([...names, ...many(values.target)])], exclude: many(values.exclude) };
}
