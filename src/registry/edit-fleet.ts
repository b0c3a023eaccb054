// Edits fleet.toml the way a careful person would: only the value that changes, every comment,
// blank line and the order kept; re-validated before it is written; written atomically; shown
// as a unified diff.
import { readFileSync } from "node:fs";
import { createTwoFilesPatch } from "diff";
import { stringify } from "smol-toml";
import { parseTOML, type AST } from "toml-eslint-parser";
import { loadFleet } from "./fleet.js";
import { problemsError, UserError } from "../common/problems.js";
import { writeAtomic } from "../state/state.js";

export type TomlValue = string | boolean | number;

/** A value as TOML writes it (smol-toml does the escaping). */
function literal(value: TomlValue): string {
  return stringify({ v: value }).replace(/^v = /, "").trimEnd();
}

function keyPath(key: AST.TOMLKey): string[] {
  return key.keys.map((k) => (k.type === "TOMLBare" ? k.name : k.value));
}

function sameKey(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The key-value at table.key (dotted keys and inline tables included), and the table holding it. */
function find(source: string, table: string[], key: string): { kv?: AST.TOMLKeyValue; table?: AST.TOMLTable } {
  const top = parseTOML(source).body[0];
  for (const node of top.body) {
    if (node.type === "TOMLKeyValue") {
      if (sameKey(keyPath(node.key), [...table, key])) return { kv: node };
      continue;
    }
    if (node.kind !== "standard") continue;
    const prefix = node.resolvedKey.map(String);
    const inTable = node.body.find((kv) => sameKey([...prefix, ...keyPath(kv.key)], [...table, key]));
    if (inTable) return { kv: inTable, table: node };
    if (sameKey(prefix, table)) return { table: node };
  }
  return {};
}

/** `source` with table.key set to value: the old value replaced in place, or a new line added to the table. */
export function setKey(source: string, table: string[], key: string, value: TomlValue): string {
  const { kv, table: node } = find(source, table, key);
  if (kv) return source.slice(0, kv.value.range[0]) + literal(value) + source.slice(kv.value.range[1]);
  if (!node) throw new Error(`fleet.toml has no [${table.join(".")}] table to set ${key} in`);
  const after = node.body.length ? node.body[node.body.length - 1].range[1] : node.key.range[1];
  const end = source.indexOf("\n", after);
  const at = end === -1 ? source.length : end;
  return `${source.slice(0, at)}\n${key} = ${literal(value)}${source.slice(at)}`;
}

/** `source` with a new [table] appended at the end, its keys in the given order. */
export function addTable(source: string, table: string[], values: Record<string, TomlValue>): string {
  const header = `[${table.map((t) => (/^[A-Za-z0-9_-]+$/.test(t) ? t : literal(t))).join(".")}]`;
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
  const start = source.lastIndexOf("\n", node.range[0] - 1) + 1;
  const newline = source.indexOf("\n", node.range[1]);
  const end = newline === -1 ? source.length : newline + 1;
  // One blank line before the table goes with it, so the file keeps its spacing.
  const before = source.slice(0, start).replace(/\n\n$/, "\n");
  return before + source.slice(end);
}

export interface EditResult {
  changed: boolean;
  diff: string;
}

/** Applies `edit` to the fleet file, validates the result, writes it atomically and returns the diff. */
export async function editFleet(file: string, edit: (source: string) => string, write = true): Promise<EditResult> {
  const before = readFileSync(file, "utf8");
  const after = edit(before);
  if (after === before) return { changed: false, diff: "" };
  const checked = await loadFleet(file, after);
  if (!checked.fleet)
    throw problemsError(checked.problems.map((p) => ({ ...p, message: `${p.message} (this edit was not written)` })));
  if (write) writeAtomic(file, after);
  const patch = createTwoFilesPatch(file, file, before, after, undefined, undefined, { context: 2 });
  // Drop the "Index:" and "===" lines the diff package puts first: the ---/+++ header says it all.
  return { changed: true, diff: patch.replace(/^Index: .*\n=+\n/, "") };
}
