// Option parsing shared by every verb: --fleet, --json and --help come for free.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UserError } from "../common/problems.js";
import { DEFAULT_FLEET } from "../registry/fleet.js";

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

/** Parses a verb's argv; returns undefined after printing the help when --help was asked. */
export function parseVerb<O extends Options>(
  verb: string,
  argv: string[],
  options: O,
  help: string,
): { values: Record<string, unknown> & Common; positionals: string[] } | undefined {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UserError(
      `${verb}: ${(e as Error).message.split("\n")[0].split(/\. /)[0].replace(/\.$/, "")}; see po ${verb} --help`,
    );
  }
  if (parsed.values.help) {
    process.stdout.write(help.endsWith("\n") ? help : `${help}\n`);
    return undefined;
  }
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
