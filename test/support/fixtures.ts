// The corpus of test/fixtures: its files, and the reviewed table of the exact problems each invalid one gives.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const FIXTURES = join(ROOT, "test", "fixtures");

/** Every .toml under `dir`, sorted. */
export function tomlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? tomlFiles(join(dir, e.name)) : e.name.endsWith(".toml") ? [join(dir, e.name)] : [],
    )
    .sort();
}

/** A path relative to the repository root, with forward slashes (as po prints what it was given). */
export const rel = (file: string): string => relative(ROOT, file).split(sep).join("/");

/**
 * test/fixtures/invalid-problems.txt: every problem of every invalid fixture, as `po validate` prints
 * it (FILE:LINE:COL: key.path: message), keyed by FILE. Reviewed by hand; {ROOT} stands for the root.
 */
export function expectedProblems(): Map<string, string[]> {
  const table = new Map<string, string[]>();
  for (const line of readFileSync(join(FIXTURES, "invalid-problems.txt"), "utf8").split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const file = line.slice(0, line.indexOf(".toml:") + 5);
    table.set(file, [...(table.get(file) ?? []), line.replaceAll("{ROOT}", ROOT)]);
  }
  return table;
}
