// Asking git about a project's harness checkout, a few at a time: local changes (only when a pin is
// planned), whether its HEAD is reachable from a ref, and whether its nested submodules follow it.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { gitMessage, gitOut } from "../adapters/git.js";

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

/** Nested submodules of the harness checkout that are not on the commits it records, described. */
export async function nestedStale(sub: string): Promise<string | undefined> {
  if (!existsSync(join(sub, ".gitmodules"))) return undefined;
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
