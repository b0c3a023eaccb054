// The pin action: check out the desired harness commit in the submodule, stage the gitlink and
// commit only that path. If the commit fails (a hook, say), the gitlink is unstaged and the
// submodule goes back to its old commit, so nothing is left half-done.
import { join } from "node:path";
import type { Action, DesiredProject } from "../reconcile/model.js";
import { gitMessage, gitRaw } from "./git.js";

async function has(dir: string, commit: string): Promise<boolean> {
  return gitRaw(dir, ["cat-file", "-e", `${commit}^{commit}`]).then(
    () => true,
    () => false,
  );
}

async function ensureCommit(sub: string, p: DesiredProject, commit: string): Promise<void> {
  if (await has(sub, commit)) return;
  await gitRaw(sub, ["fetch", "--quiet", "--tags", "--end-of-options", p.harness.url], true).catch(() => undefined);
  if (!(await has(sub, commit))) await gitRaw(sub, ["fetch", "--quiet", "--end-of-options", p.harness.url, commit], true);
  if (!(await has(sub, commit))) throw new Error(`commit ${commit} of harness '${p.harness.name}' could not be fetched from ${p.harness.url}`);
}

async function refName(sub: string, commit: string): Promise<string> {
  const tag = await gitRaw(sub, ["describe", "--tags", "--exact-match", commit]).catch(() => "");
  return tag.trim() || commit.slice(0, 7);
}

export async function commitMessage(sub: string, p: DesiredProject, from: string | undefined, to: string): Promise<string> {
  const old = from ? await refName(sub, from) : "nothing";
  const log = from ? await gitRaw(sub, ["log", "--oneline", "--no-decorate", `${from}..${to}`]).catch(() => "") : "";
  const body = `${p.harness.path}: ${from?.slice(0, 7) ?? "none"} → ${to.slice(0, 7)}`;
  return `Pin harness ${p.harness.name} ${old} → ${p.ref}\n\n${body}\n${log.trim() ? `\nCommits:\n${log.trim()}\n` : ""}`;
}

export async function pin(p: DesiredProject, action: Action): Promise<void> {
  const sub = join(p.location, p.harness.path);
  const to = action.to!;
  await ensureCommit(sub, p, to);
  const status = await gitRaw(sub, ["status", "--porcelain"]);
  if (status.trim()) throw new Error(`${p.harness.path}/ has local changes; commit or discard them, then apply again (nothing was changed)`);
  const old = (await gitRaw(sub, ["rev-parse", "HEAD"])).trim();
  await gitRaw(sub, ["checkout", "--quiet", "--detach", to]);
  try {
    await gitRaw(p.location, ["add", "--", p.harness.path]);
    const staged = await gitRaw(p.location, ["diff", "--cached", "--name-only", "--", p.harness.path]);
    if (staged.trim()) await gitRaw(p.location, ["commit", "--quiet", "-m", await commitMessage(sub, p, action.from, to), "--", p.harness.path]);
  } catch (e) {
    await gitRaw(p.location, ["reset", "--quiet", "--", p.harness.path]).catch(() => undefined);
    await gitRaw(sub, ["checkout", "--quiet", "--detach", old]).catch(() => undefined);
    throw new Error(`pin of ${p.name} rolled back: git commit failed: ${gitMessage(e)}`);
  }
}
