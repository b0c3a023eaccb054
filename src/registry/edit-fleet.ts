// Edits fleet.toml the way a careful person would: only the value that changes, every comment,
// blank line and the order kept; re-validated before it is written; written atomically; shown
// as a unified diff.
import { chmodSync, lstatSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from "diff";
import { stringify } from "smol-toml";
import { parseTOML, type AST } from "toml-eslint-parser";
import { loadFleet } from "./fleet.js";
import { problemsError, UserError } from "../common/problems.js";
import { acquireLock, stateDir } from "../state/state.js";
import { StateWriteError, type Replaced } from "../state/private.js";

export type TomlValue = string | boolean | number;

/** A value as TOML writes it (smol-toml does the escaping). */
function literal(value: TomlValue): string {
  return stringify({ v: value }).slice("v = ".length).trimEnd();
}

function keyPath(key: AST.TOMLKey): string[] {
  return key.keys.map((k) => (k.type === "TOMLBare" ? k.name : k.value));
}

function sameKey(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Where table.key is (`kv`), or where it can be added: after `after` (a new line) or into `inline`. */
interface Found {
  kv?: AST.TOMLKeyValue;
  /** the last line of the table's keys, and the key prefix a new line needs there */
  after?: { end: number; prefix: string[] };
  inline?: AST.TOMLInlineTable;
}

const startsWith = (path: string[], prefix: string[]) => sameKey(path.slice(0, prefix.length), prefix);

/** Walks key-values under `prefix` (inline tables included) for table.key. */
function walk(kvs: AST.TOMLKeyValue[], prefix: string[], table: string[], key: string, found: Found): void {
  for (const kv of kvs) {
    const full = [...prefix, ...keyPath(kv.key)];
    if (sameKey(full, [...table, key])) found.kv = kv;
    else if (kv.value.type === "TOMLInlineTable" && startsWith([...table, key], full)) {
      if (sameKey(full, table)) found.inline = kv.value;
      walk(kv.value.body, full, table, key, found);
    } else if (full.length > table.length && startsWith(full, table) && kv.parent.type !== "TOMLInlineTable")
      found.after = { end: kv.range[1], prefix: table.slice(prefix.length) };
  }
}

function find(source: string, table: string[], key: string): Found {
  const found: Found = {};
  const top = parseTOML(source).body[0];
  walk(
    top.body.filter((n): n is AST.TOMLKeyValue => n.type === "TOMLKeyValue"),
    [],
    table,
    key,
    found,
  );
  for (const node of top.body) {
    if (node.type !== "TOMLTable" || node.kind !== "standard") continue;
    const prefix = node.resolvedKey.map(String);
    walk(node.body, prefix, table, key, found);
    // a table with keys had `after` set by walk, at its last key; an empty one gets its header line
    if (sameKey(prefix, table) && !found.after) found.after = { end: node.key.range[1], prefix: [] };
  }
  return found;
}

function keyText(path: string[]): string {
  return path.map((t) => (/^[A-Za-z0-9_-]+$/.test(t) ? t : literal(t))).join(".");
}

/** `source` with table.key set to value: the old value replaced in place, or the key added to its table. */
export function setKey(source: string, table: string[], key: string, value: TomlValue): string {
  const { kv, after, inline } = find(source, table, key);
  if (kv) return source.slice(0, kv.value.range[0]) + literal(value) + source.slice(kv.value.range[1]);
  if (inline) {
    // An inline table is one line by TOML's rule: the key goes in before its closing brace.
    const close = inline.range[1] - 1;
    const head = source.slice(0, close).trimEnd();
    const sep = inline.body.length ? ", " : " ";
    return `${head}${sep}${key} = ${literal(value)} ${source.slice(close)}`;
  }
  if (!after)
    throw new UserError(`fleet.toml has no [${table.join(".")}] table to set ${key} in (nothing was written)`);
  const end = source.indexOf("\n", after.end);
  const at = end === -1 ? source.length : end;
  return `${source.slice(0, at)}\n${keyText([...after.prefix, key])} = ${literal(value)}${source.slice(at)}`;
}

/** `source` with a new [table] appended at the end, its keys in the given order. */
export function addTable(source: string, table: string[], values: Record<string, TomlValue>): string {
  const header = `[${keyText(table)}]`;
  const lines = Object.entries(values).map(([k, v]) => `${k} = ${literal(v)}`);
  const base = source.endsWith("\n") || source === "" ? source : `${source}\n`;
  return `${base}${base.trim() ? "\n" : ""}${header}\n${lines.join("\n")}\n`;
}

/** `source` without the standard table [table...]: from its header to its last key; comments around it stay. */
export function removeTable(source: string, table: string[]): string {
  const top = parseTOML(source).body[0];
  const node = top.body.find(
    (n): n is AST.TOMLTable =>
      n.type === "TOMLTable" && n.kind === "standard" && sameKey(n.resolvedKey.map(String), table),
  );
  if (!node)
    throw new UserError(
      `fleet.toml has no [${table.join(".")}] table (an inline table or dotted keys are not edited by po); ` +
        "remove it by hand",
    );
  const start = source.lastIndexOf("\n", node.range[0]) + 1;
  const newline = source.indexOf("\n", node.range[1]);
  const end = newline === -1 ? source.length : newline + 1;
  // One blank line before the table goes with it, so the file keeps its spacing.
  const before = source.slice(0, start).replace(/\n\n$/, "\n");
  return before + source.slice(end);
}

export interface EditResult {
  changed: boolean;
  diff: string;
  before: string;
  after: string;
}

/**
 * Replaces the file's content atomically, keeping what the operator set up: a symlink stays a
 * symlink (its target is written) and the file keeps its mode.
 */
function writeKeeping(file: string, text: string): void {
  const target = realpathSync(file);
  const mode = statSync(target).mode & 0o7777;
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text, { mode });
    chmodSync(tmp, mode);
    renameSync(tmp, target);
  } catch (e) {
    // our temporary file goes; anything else at that name (a folder) is not ours to remove
    if (lstatSync(tmp, { throwIfNoEntry: false })?.isFile()) rmSync(tmp);
    const why = /^E[A-Z]+: ([^,]*)/.exec((e as Error).message)?.[1] ?? (e as Error).message;
    throw new UserError(`could not write ${file}: ${why}; it was not changed`);
  }
}

/** A state write that fails before fleet.toml is written: it leaves fleet.toml as it was, and says so. */
function untouched(file: string, e: unknown): unknown {
  return e instanceof StateWriteError ? new UserError(`${e.message}; ${file} was not changed`) : e;
}

/**
 * Writes fleet.toml after `first`, the state write it depends on; when fleet.toml cannot be written,
 * `first` is undone, so that no failure leaves one without the other.
 */
function writeAfterFirst(file: string, after: string, first?: () => Replaced): void {
  let replaced: Replaced | undefined;
  try {
    replaced = first?.();
  } catch (e) {
    throw untouched(file, e);
  }
  try {
    writeKeeping(file, after);
  } catch (e) {
    undoFirst(replaced, e as Error);
    throw e;
  }
  replaced?.done();
}

/** Puts back what `first` replaced; when even that fails, one line says both. */
function undoFirst(replaced: Replaced | undefined, failure: Error): void {
  try {
    replaced?.undo();
  } catch (u) {
    throw new UserError(`${failure.message}, but what po had written first is left (${(u as Error).message})`);
  }
}

/** How long an edit waits for another po editing the same fleet file. */
const FLEET_LOCK_MS = 60_000;

/**
 * Applies `edit` to the fleet file, validates the result and returns the diff; with `write`, under
 * an exclusive lock for the whole read-modify-write (concurrent edits all survive), written atomically.
 * `first` is a state write the edit depends on: made under the lock before fleet.toml is written,
 * and undone when fleet.toml cannot be written, so that no failure leaves one without the other.
 */
export async function editFleet(
  file: string,
  edit: (source: string) => string,
  write = true,
  first?: () => Replaced,
): Promise<EditResult> {
  const lock = write
    ? await acquireLock(stateDir(resolve(file)), FLEET_LOCK_MS, "fleet.lock").catch((e) => {
        throw untouched(file, e);
      })
    : undefined;
  try {
    const before = readFileSync(file, "utf8");
    const after = edit(before);
    if (after === before) return { changed: false, diff: "", before, after };
    const checked = await loadFleet(file, after);
    if (!checked.fleet)
      throw problemsError(checked.problems.map((p) => ({ ...p, message: `${p.message} (this edit was not written)` })));
    if (write) writeAfterFirst(file, after, first);
    // the ---/+++ header says it all: no "Index:" and "===" lines first
    const options = { context: 2, headerOptions: FILE_HEADERS_ONLY };
    const diff = createTwoFilesPatch(file, file, before, after, undefined, undefined, options);
    return { changed: true, diff, before, after };
  } finally {
    lock?.release();
  }
}
