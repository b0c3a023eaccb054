// Asking git about a project's harness checkout, a few at a time: local changes (only when a pin is
// planned), whether its HEAD is reachable from a ref, and whether its nested submodules follow it.
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { gitMessage, gitOut } from "../adapters/git.js";
import { Repo } from "./git-read.js";

/**
 * Runs at most `n` at once: git is real work, so a few at a time, but more than the cores, since
 * each git also waits on its files (and, on a shared machine, for its turn on a core).
 */
function gate(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (running >= n) await new Promise<void>((go) => waiting.push(go));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
export const gitGate = gate(Math.max(8, availableParallelism()));

/** Local changes in the submodule as git status sees them (untracked files and nested submodules count). */
export async function localChanges(sub: string): Promise<string | undefined> {
  // porcelain v1: whether a nested submodule changed costs git one look into it, where v2's finer
  // flags cost two
  const args = ["status", "--porcelain", "-z", "--untracked-files=normal", "--ignore-submodules=none"];
  const out = await gitGate(() => gitOut(sub, args)).catch((e: unknown) => e as Error);
  if (out instanceof Error) return `git status failed: ${gitMessage(out)}`;
  const records = out.split("\0");
  const paths: string[] = [];
  for (let i = 0; i < records.length; i++) {
    if (records[i].length < 4) continue;
    paths.push(records[i].slice(3));
    if (/^[RC]|^.[RC]/.test(records[i])) i++; // a rename or copy: its old path follows
  }
  if (!paths.length) return undefined;
  const shown = paths.slice(0, 3).join(", ") + (paths.length > 3 ? ", …" : "");
  return `${paths.length} changed or untracked file${paths.length > 1 ? "s" : ""}: ${shown}`;
}

/** `head` when no branch, tag or remote-tracking branch of `sub` reaches it (unsure counts as unreachable). */
export async function unreachableHead(sub: string, head: string): Promise<string | undefined> {
  const args = ["for-each-ref", "--count=1", "--format=%(refname)", `--contains=${head}`];
  const out = await gitGate(() => gitOut(sub, [...args, "refs/heads", "refs/tags", "refs/remotes"])).catch(() => "");
  return out.trim() ? undefined : head;
}

const NESTED = { "-": "not initialized", "+": "on another commit", U: "in conflict" } as Record<string, string>;

/**
 * The nested submodules of the harness checkout, read by hand: each recorded path's gitlink in the
 * checkout's HEAD against that submodule's own HEAD. Undefined when all follow; throws when the
 * reader is unsure (a deeper nesting, an odd repository): then git is asked.
 */
function nestedByHand(sub: string, modules: string): string | undefined {
  const repo = Repo.at(sub);
  if (!repo) throw new Error("no repository");
  const stale: string[] = [];
  for (const m of modules.matchAll(/^\s*path\s*=\s*(.+?)\s*$/gm)) {
    const path = m[1];
    const want = repo.gitlinkInHead(path);
    if (!want) continue;
    if (existsSync(join(sub, path, ".gitmodules"))) throw new Error("nested deeper");
    const nested = Repo.at(join(sub, path));
    if (!nested) stale.push(`${path} not initialized`);
    else if (nested.head() !== want) stale.push(`${path} on another commit`);
  }
  return stale.length ? stale.join(", ") : undefined;
}

/** Nested submodules of the harness checkout that are not on the commits it records, described. */
export async function nestedStale(sub: string): Promise<string | undefined> {
  let modules: string;
  try {
    modules = readFileSync(join(sub, ".gitmodules"), "utf8");
  } catch {
    return undefined;
  }
  try {
    return nestedByHand(sub, modules);
  } catch {
    // the reader is unsure: git says it, for this checkout only
  }
  const out = await gitGate(() => gitOut(sub, ["submodule", "status", "--recursive"])).catch(
    (e) => `? ${gitMessage(e)}`,
  );
  const stale = out
    .split("\n")
    .filter((l) => l && !l.startsWith(" "))
    .map((l) => /^([-+U])[0-9a-f]+ (\S+)/.exec(l))
    .map((m) => (m ? `${m[2]} ${NESTED[m[1]]}` : out.trim()));
  return stale.length ? stale.join(", ") : undefined;
}
