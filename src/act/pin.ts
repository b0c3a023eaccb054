// The pin action: check out the desired harness commit in the submodule, stage the gitlink and
// commit only that path. If the commit fails (a hook, say), the gitlink's index entry and the
// submodule's checkout go back to what they were, so nothing is left half-done.
//
// Every step is safe to repeat after a kill -9 at any point: a submodule already on the new commit,
// or a gitlink already staged, is simply carried on from. Nothing here deletes, resets a branch or
// force-checks-out: a checkout that would touch local changes is refused before it starts.
import { existsSync, rmSync, statSync } from "node:fs";
import { uptime } from "node:os";
import { join } from "node:path";
import type { Action, DesiredProject } from "../../reconcile/model.js";
import { gitMessage, gitRaw } from "../adapters/git.js";
import { blockedOf, gitDirOf } from "../observe/observe.js";
import { pollUntil } from "../common/poll.js";
import { tagAt } from "../observe/resolve-ref.js";

const INDEX_LOCK_WAIT_MS = 5000;

async function has(dir: string, commit: string): Promise<boolean> {
  return gitRaw(dir, ["cat-file", "-e", `${commit}^{commit}`]).then(
    () => true,
    () => false,
  );
}

async function ensureCommit(sub: string, p: DesiredProject, commit: string): Promise<void> {
  if (await has(sub, commit)) return;
  await gitRaw(sub, ["fetch", "--quiet", "--tags", "--end-of-options", p.harness.url], true).catch(() => undefined);
  if (await has(sub, commit)) return;
  const err = await gitRaw(sub, ["fetch", "--quiet", "--end-of-options", p.harness.url, commit], true).then(
    () => undefined,
    gitMessage,
  );
  if (!(await has(sub, commit)))
    throw new Error(
      `commit ${commit.slice(0, 12)} of harness '${p.harness.name}' could not be fetched from ${p.harness.url}${err ? `: ${err}` : ""}; check the url and the network, then apply again (nothing was changed)`,
    );
}

/** The lock was written before this machine last booted: no process that could hold it is alive. */
function fromBeforeBoot(lock: string): boolean {
  const mtime = statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
  return mtime !== undefined && mtime < Date.now() - uptime() * 1000 - 5000;
}

/**
 * Waits (bounded) for git's index.lock to go away. A git command of the operator's, or one a killed
 * apply left running, finishes within moments. A lock that stays is removed only when it provably
 * has no owner (written before the machine booted, e.g. a power loss mid-pin); otherwise never: git
 * writes no owner into it, so po cannot tell a git killed mid-write from the operator's `git commit`
 * waiting in its editor, and removing a live lock lets two writers clobber the staged index.
 */
async function indexLockFree(gitDir: string, where: string): Promise<void> {
  const lock = join(gitDir, "index.lock");
  if (fromBeforeBoot(lock)) {
    rmSync(lock, { force: true });
    process.stderr.write(`po: warning: removed ${lock}, left by a git that ran before this machine restarted\n`);
  }
  if (!(await pollUntil(() => !existsSync(lock), INDEX_LOCK_WAIT_MS))) {
    const since = statSync(lock, { throwIfNoEntry: false })?.mtime.toISOString() ?? "?";
    throw new Error(
      `${lock} exists (since ${since}): a git command is running in ${where}, or one was killed; if none is running, remove that file and apply again (nothing was changed)`,
    );
  }
}

/** Everything a pin needs, checked without changing anything; throws one line saying what to do. */
export async function checkPinnable(p: DesiredProject, action: Action): Promise<void> {
  const sub = join(p.location, p.harness.path);
  const [gitDir, subGitDir] = [gitDirOf(p.location), gitDirOf(sub)];
  if (!gitDir || !subGitDir)
    throw new Error(`${p.location} or its ${p.harness.path}/ is no longer a git repository; plan again`);
  // Checked again right before acting: the plan may be minutes old.
  const blocked = blockedOf(gitDir);
  if (blocked)
    throw new Error(`cannot commit a new pin of ${p.harness.path} in ${p.location}: ${blocked} (nothing was changed)`);
  await indexLockFree(gitDir, p.location);
  await indexLockFree(subGitDir, sub);
  await ensureCommit(sub, p, action.to!);
  const status = await gitRaw(sub, ["status", "--porcelain", "--untracked-files=normal"]);
  if (status.trim())
    throw new Error(
      `${p.harness.path}/ in ${p.location} has local changes or untracked files (${status.trim().split("\n").length}); commit or discard them, then apply again (nothing was changed)`,
    );
}

export async function commitMessage(
  sub: string,
  p: DesiredProject,
  from: string | undefined,
  to: string,
): Promise<string> {
  const old = from ? ((await tagAt(sub, from)) ?? from.slice(0, 7)) : "nothing";
  const log = from ? await gitRaw(sub, ["log", "--oneline", "--no-decorate", `${from}..${to}`]).catch(() => "") : "";
  const body = `${p.harness.path}: ${from?.slice(0, 7) ?? "none"} → ${to.slice(0, 7)}`;
  return `Pin harness ${p.harness.name} ${old} → ${p.ref}\n\n${body}\n${log.trim() ? `\nCommits:\n${log.trim()}\n` : ""}`;
}

/** What a rollback restores: the submodule's checkout and the gitlink's index entry. */
interface Before {
  head: string;
  checkedOut: string;
  staged: string;
}

/** The gitlink at `path` in a tree (HEAD), or in the index when no tree is named; "" when none. */
async function gitlinkIn(location: string, path: string, tree?: string): Promise<string> {
  const out = await gitRaw(location, tree ? ["ls-tree", tree, "--", path] : ["ls-files", "--stage", "--", path]);
  return /\b160000 (?:commit )?([0-9a-f]{40})\b/.exec(out)?.[1] ?? "";
}

async function rollback(p: DesiredProject, sub: string, before: Before): Promise<string> {
  const steps = [
    gitRaw(
      p.location,
      before.staged
        ? ["update-index", "--cacheinfo", `160000,${before.staged},${p.harness.path}`]
        : ["update-index", "--force-remove", "--", p.harness.path],
    ).then(() => "gitlink unstaged"),
    gitRaw(sub, ["checkout", "--quiet", "--detach", before.checkedOut]).then(
      () => `${p.harness.path} back on ${before.checkedOut.slice(0, 7)}`,
    ),
  ];
  const done = await Promise.all(steps.map((s) => s.catch((e) => `ROLLBACK FAILED: ${gitMessage(e)}`)));
  return done.join(", ");
}

export async function pin(p: DesiredProject, action: Action): Promise<void> {
  const sub = join(p.location, p.harness.path);
  const to = action.to!;
  await checkPinnable(p, action);
  const before: Before = {
    head: (await gitRaw(p.location, ["rev-parse", "HEAD"])).trim(),
    checkedOut: (await gitRaw(sub, ["rev-parse", "HEAD"])).trim(),
    staged: await gitlinkIn(p.location, p.harness.path),
  };
  try {
    await gitRaw(sub, ["checkout", "--quiet", "--detach", to]);
    await gitRaw(p.location, ["add", "--", p.harness.path]);
    const staged = await gitRaw(p.location, ["diff", "--cached", "--name-only", "--", p.harness.path]);
    if (staged.trim())
      await gitRaw(p.location, [
        "commit",
        "--quiet",
        "-m",
        await commitMessage(sub, p, action.from, to),
        "--",
        p.harness.path,
      ]);
    // simple-git reports a git killed by a signal, with nothing on stderr, as a success: verify.
    if ((await gitlinkIn(p.location, p.harness.path, "HEAD")) !== to)
      throw new Error("git commit ended without recording the pin (was it interrupted?)");
  } catch (e) {
    // A commit that was made after all (git failed after writing it) is a pin done, not undone.
    const head = (await gitRaw(p.location, ["rev-parse", "HEAD"]).catch(() => before.head)).trim();
    if (head !== before.head && (await gitlinkIn(p.location, p.harness.path, "HEAD")) === to) return;
    throw new Error(
      `pin of ${p.name} failed and was rolled back (${await rollback(p, sub, before)}): ${gitMessage(e)}`,
    );
  }
}
