// The corpus of malformed and well-formed fleet.toml / agents.toml files under test/fixtures and a
// po run in a clean environment, shared by validate.test.ts and validate-more.test.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { noStackTrace } from "./world.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const CLI = join(ROOT, "dist", "src", "cli", "main.js");
const FIXTURES = join(ROOT, "test", "fixtures");
export const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface JsonProblem {
  file: string;
  line?: number;
  col?: number;
  path?: string;
  message: string;
}

export interface JsonReport {
  ok: boolean;
  files: { file: string; kind: "fleet" | "agents"; problems: JsonProblem[] }[];
}

// A clean environment: no PO_FLEET, PO_DEBUG or the caller's HOME; a HOME of its own so that `~`
// locations resolve somewhere known.
export const HOME = mkdtempSync(join(tmpdir(), "po-validate-home-"));
const ENV: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME, LANG: "C.UTF-8", NO_COLOR: "1" };

export function po(args: string[], cwd = ROOT): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, env: ENV, encoding: "utf8", timeout: 30_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

/** No stack trace, no internal error: what an operator sees is always a located, one-line problem. */
export function assertClean(r: Run, what: string): void {
  noStackTrace(r.stderr, `${what} (stderr)`);
  noStackTrace(r.stdout, `${what} (stdout)`);
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// ---------------------------------------------------------------------------------------------
// The corpus

export interface Expectation {
  line: number;
  pattern: RegExp;
}

export interface Fixture {
  /** path relative to the repository root, as given to po */
  rel: string;
  expect: Expectation[];
  count?: number;
  bytes: Buffer;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".toml") ? [join(dir, e.name)] : []))
    .sort();
}

function readFixture(file: string): Fixture {
  const bytes = readFileSync(file);
  const text = (bytes.subarray(0, 3).equals(BOM) ? bytes.subarray(3) : bytes).toString("utf8");
  const rel = relative(ROOT, file).split(sep).join("/");
  const expect: Expectation[] = [];
  let count: number | undefined;
  for (const l of text.split(/\r?\n/)) {
    const e = /^# expect: (\d+) (.+)$/.exec(l);
    const c = /^# expect-count: (\d+)$/.exec(l);
    if (e) expect.push({ line: Number(e[1]), pattern: new RegExp(e[2]) });
    else if (c) count = Number(c[1]);
    else break;
  }
  return { rel, expect, count, bytes };
}

export const invalid = walk(join(FIXTURES, "invalid")).map(readFixture);
export const valid = walk(join(FIXTURES, "valid")).map((f) => relative(ROOT, f).split(sep).join("/"));
// This orchestrator's own registry and agents: always part of the good cases.
export const own = ["fleet.toml", "agents.toml"];

export function fixture(name: string): Fixture {
  const f = invalid.find((x) => x.rel === `test/fixtures/invalid/${name}`);
  assert.ok(f, `fixture ${name} exists`);
  return f;
}
