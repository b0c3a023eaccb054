// Validates parsed TOML data against schema/*.json with ajv and turns ajv's errors into located,
// operator-facing problems. The validators are compiled at build time (scripts/gen-validators.mjs,
// dist/src/registry/generated/validators.cjs); ajv itself is loaded only if they are missing or stale.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Ajv, ErrorObject, Options, ValidateFunction } from "ajv";
import type { Locator } from "./toml-locate.js";
import type { Problem } from "../common/problems.js";
import { didYouMean } from "../common/suggest.js";

export type SchemaName = "fleet" | "agents";
// Stryker disable all: loading and caching the validators (precompiled or compiled now) changes
// only how fast the same problems come; docs/testing.md lists this block as left on purpose.
export const SCHEMAS: readonly SchemaName[] = ["fleet", "agents"];

const require = createRequire(import.meta.url);
const validators = new Map<SchemaName, ValidateFunction>();

/** A schema file, parsed, and the hash of its text. */
export function schemaSource(name: SchemaName): { schema: object; hash: string } {
  const text = readFileSync(new URL(`../../../schema/${name}.schema.json`, import.meta.url), "utf8");
  return { schema: JSON.parse(text) as object, hash: createHash("sha256").update(text).digest("hex") };
}

/** The ajv that checks po's files; the build compiles the schemas ahead of time with it. */
export function newAjv(extra: Options = {}): Ajv {
  const mod = require("ajv") as { default: new (o: Options) => Ajv };
  const ajv = new mod.default({ allErrors: true, verbose: true, useDefaults: false, ...extra });
  ajv.addKeyword("tsType");
  return ajv;
}

type Precompiled = Partial<Record<SchemaName, ValidateFunction>> & { hashes?: Partial<Record<SchemaName, string>> };

function precompiled(): Precompiled {
  try {
    return require("./generated/validators.cjs") as Precompiled;
  } catch {
    return {}; // not built (e.g. tsc alone): compile at run time
  }
}

function validator(name: SchemaName): ValidateFunction {
  let v = validators.get(name);
  if (!v) {
    const { schema, hash } = schemaSource(name);
    const built = precompiled();
    const ahead = built.hashes?.[name] === hash ? built[name] : undefined;
    v = ahead ?? newAjv().compile(schema);
    validators.set(name, v);
  }
  return v;
}
// Stryker restore all

const NAME_RULE = "use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit";
const KIND_OF_NAME: Record<string, string> = {
  projects: "project",
  harnesses: "harness",
  hosts: "host",
  agents: "agent",
};

function pathOf(e: ErrorObject): string[] {
  return e.instancePath
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** A TOML value's type, as the operator wrote it (TOML has no null). */
function describeType(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  // smol-toml's dates and times are Dates; toISOString writes them in TOML's form, to the millisecond
  if (value instanceof Date) return `the date ${value.toISOString()}`;
  if (typeof value === "object") return "a table";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

const TYPE_NAMES: Record<string, string> = {
  object: "a table",
  array: "an array",
  string: "a string",
  boolean: "true or false",
  integer: "a whole number",
};

/** Why `wake` is refused, from the agents schema: said wherever `wake` appears in agents.toml. */
function wakeMessage(): string {
  return require("../../../schema/agents.schema.json").definitions.agent.properties.wake.description;
}

function message(e: ErrorObject, name: SchemaName): string {
  const p = e.params as Record<string, unknown>;
  // ajv gives every error its schema's parent (verbose: true)
  const parent = e.parentSchema as { description?: string; properties?: Record<string, unknown> };
  switch (e.keyword) {
    case "additionalProperties": {
      const key = String(p.additionalProperty);
      if (name === "agents" && key === "wake") return wakeMessage();
      return `unknown key '${key}'${didYouMean(key, Object.keys(parent.properties ?? {}))}`;
    }
    case "required":
      return `missing required key '${String(p.missingProperty)}'`;
    case "type": {
      // a union type comes as "integer,string"
      const types = String(p.type).split(",");
      return `must be ${types.map((t) => TYPE_NAMES[t] ?? t).join(" or ")}, not ${describeType(e.data)}`;
    }
    case "const":
      return `must be ${JSON.stringify(p.allowedValue)}, not ${JSON.stringify(e.data)}`;
    case "enum":
      return (
        `must be one of ` +
        `${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}, not ${JSON.stringify(e.data)}`
      );
    case "not":
      return parent.description ?? "is not allowed here";
    case "minItems":
    case "minLength":
      return "must not be empty";
    case "pattern":
      return `invalid value ${JSON.stringify(e.data)}${parent.description ? `: ${parent.description}` : ""}`;
    default:
      return e.message ?? "is invalid";
  }
}

function toProblem(e: ErrorObject, name: SchemaName, file: string, locate: Locator): Problem | undefined {
  const path = pathOf(e);
  if (e.keyword === "propertyNames") return undefined; // its detail comes as its own error
  // an empty string is "must not be empty" (minLength here, else value-safety.ts), said once
  if (e.keyword === "pattern" && e.data === "") return undefined;
  if (e.propertyName !== undefined) {
    const kind = KIND_OF_NAME[path[path.length - 1]] ?? "key";
    const full = [...path, e.propertyName];
    return {
      file,
      ...locate(full),
      path: full.join("."),
      message: `invalid ${kind} name '${e.propertyName}': ${NAME_RULE}`,
    };
  }
  const keyPath = e.keyword === "additionalProperties" ? [...path, String(e.params.additionalProperty)] : path;
  return { file, ...locate(keyPath), path: keyPath.join(".") || undefined, message: message(e, name) };
}

/** Problems of `data` against the named schema, one per offending key (loadToml sorts them by line). */
export function schemaProblems(name: SchemaName, data: unknown, file: string, locate: Locator): Problem[] {
  const v = validator(name);
  if (v(data)) return [];
  return (v.errors ?? []).map((e) => toProblem(e, name, file, locate)).filter((p): p is Problem => p !== undefined);
}
