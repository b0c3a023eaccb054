// The pin action: check out the desired harness commit in the submodule, stage the gitlink and
// commit only that path. If the commit fails (a hook, say), the gitlink's index entry and the
// submodule's checkout go back to what they were, so nothing is left half-done.
//
// Every step is safe to repeat after a kill -9 at any point: a submodule already on the new commit,
// or a gitlink already staged, is simply carried on from. Nothing here deletes, resets a branch or
// force-checks-out: a checkout that would touch local changes is refused before it starts.
import { existsSync, lstatSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { uptime } from "node:os";
import { join } from "node:path";
import type { Action, DesiredProject } from "../../reconcile/model.js";
import { gitMessage, gitRaw } from "../adapters/git.js";
import { gitBounded } from "../adapters/git-bounded.js";
import { blockedOf, gitDirOf } from "../observe/observe.js";
import { unreachableHead } from "../observe/harness-checkout.js";
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
      `commit ${commit.slice(0, 12)} of harness '${p.harness.name}' could not be fetched from ` +
        `${p.harness.url}${err ? `: ${err}` : ""}; ` +
        "check the url and the network, then apply again (nothing was changed)",
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
      `${lock} exists (since ${since}): a git command is running in ${where}, or one was killed; if ` +
        `none is running, remove that file and apply again (nothing was changed)`,
    );
  }
}

/** Everything a pin needs, checked without changing anything; throws one line saying what to do. */
export async function checkPinnable(p: DesiredProject, action: Action): Promise<void> {
  const sub = join(p.location, p.harness.path);
  const refuse = (why: string) =>
    new Error(`cannot pin ${p.harness.path} in ${p.location}: ${why} (nothing was changed)`);
  // A symlink is not a submodule: checking out through it would move another repository's HEAD.
  if (lstatSync(sub, { throwIfNoEntry: false })?.isSymbolicLink())
    throw refuse(`${p.harness.path} is a symlink, not the submodule's own checkout; replace it with one`);
  const [gitDir, subGitDir] = [gitDirOf(p.location), gitDirOf(sub)];
  if (!gitDir || !subGitDir)
    throw new Error(`${p.location} or its ${p.harness.path}/ is no longer a git repository; plan again`);
  // Checked again right before acting: the plan may be minutes old.
  const blocked = blockedOf(gitDir);
  if (blocked)
    throw new Error(`cannot commit a new pin of ${p.harness.path} in ${p.location}: ${blocked} (nothing was changed)`);
  const subBlocked = blockedOf(subGitDir, true);
  if (subBlocked) throw refuse(`in ${p.harness.path}, ${subBlocked}`);
  await indexLockFree(gitDir, p.location);
  await indexLockFree(subGitDir, sub);
  await ensureCommit(sub, p, action.to!);
  const peeled = (await gitRaw(sub, ["rev-parse", "--verify", "--end-of-options", `${action.to}^{commit}`])).trim();
  if (peeled !== action.to)
    throw refuse(`${action.to} is not a commit id (it is a tag object of ${peeled}); plan again`);
  const status = await gitRaw(sub, ["status", "--porcelain", "--untracked-files=normal"]);
  if (status.trim())
    throw refuse(
      `${p.harness.path}/ has local changes or untracked files (${status.trim().split("\n").length}); ` +
        `commit or discard them, then apply again`,
    );
  await checkReachable(p, sub, action.to!, refuse);
}

/** Checking out away from a commit that no ref reaches (and no pin records) would orphan the operator's work. */
async function checkReachable(
  p: DesiredProject,
  sub: string,
  to: string,
  refuse: (why: string) => Error,
): Promise<void> {
  const head = (await gitRaw(sub, ["rev-parse", "--verify", "HEAD"])).trim();
  // The pin HEAD records, or the commit this pin goes to (a pin resumed after a kill), is not lost.
  if ([await gitlinkIn(p.location, p.harness.path, "HEAD"), to].includes(head)) return;
  if (!(await unreachableHead(sub, head))) return;
  throw refuse(
    `${p.harness.path} has commit ${head.slice(0, 12)} checked out that no branch or tag reaches; put a ` +
      `branch on it (git -C ${p.harness.path} branch NAME), then apply again`,
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
  return (
    `Pin harness ${p.harness.name} ${old} → ` +
    `${p.ref}\n\n${body}\n${log.trim() ? `\nCommits:\n${log.trim()}\n` : ""}`
  );
}

/** What a rollback restores, to the byte: the index, the branch HEAD is on, the submodule's checkout. */
interface Before {
  head: string;
  index: Buffer | undefined;
  checkedOut: string;
  /** the branch the submodule had checked out, when it was not detached */
  subBranch: string;
  subIndex: Buffer | undefined;
}

const OID = "([0-9a-f]{40}(?:[0-9a-f]{24})?)";

/** The gitlink at `path` in a tree (HEAD), or in the index when no tree is named; "" when none. */
async function gitlinkIn(location: string, path: string, tree?: string): Promise<string> {
  const out = await gitRaw(location, tree ? ["ls-tree", tree, "--", path] : ["ls-files", "--stage", "--", path]);
  return new RegExp(`\\b160000 (?:commit )?${OID}\\b`).exec(out)?.[1] ?? "";
}

/** Why the commit at HEAD is not exactly the pin (one parent, `before`; one change, the gitlink to `to`). */
async function notThePin(location: string, path: string, before: string, to: string): Promise<string | undefined> {
  const parents = (await gitRaw(location, ["rev-list", "--parents", "-n", "1", "HEAD"])).trim().split(" ").slice(1);
  if (parents.join(" ") !== before) return `its parents are ${parents.join(" ") || "none"}, not ${before}`;
  const changes = (await gitRaw(location, ["diff-tree", "-r", "--no-commit-id", "--no-renames", before, "HEAD"]))
    .split("\n")
    .filter(Boolean);
  const one = new RegExp(`^:160000 160000 [0-9a-f]+ ${to} M\t${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
  if (changes.length !== 1 || !one.test(changes[0]))
    return `it records ${changes.length} change(s) instead of the one gitlink ${path} → ${to.slice(0, 12)}`;
  return undefined;
}

/** The file's bytes written back through git's own lock protocol (index.lock, then rename). */
function restoreFile(file: string, bytes: Buffer | undefined): void {
  if (bytes === undefined) return;
  const lock = `${file}.lock`;
  writeFileSync(lock, bytes, { flag: "wx" });
  renameSync(lock, file);
}

async function rollback(p: DesiredProject, sub: string, before: Before, dirs: [string, string]): Promise<string> {
  const steps: (() => Promise<string | undefined>)[] = [
    // Only the commit this pin made is taken back, and only if HEAD is still on it (compare-and-swap).
    async () => {
      const head = (await gitRaw(p.location, ["rev-parse", "HEAD"])).trim();
      if (head === before.head) return undefined;
      await gitRaw(p.location, ["update-ref", "-m", "po: undo a failed pin", "HEAD", before.head, head]);
      return `commit ${head.slice(0, 7)} taken back, HEAD on ${before.head.slice(0, 7)}`;
    },
    async () => {
      restoreFile(join(dirs[0], "index"), before.index);
      return "gitlink unstaged";
    },
    async () => {
      const back = before.subBranch ? [before.subBranch] : ["--detach", before.checkedOut];
      await gitRaw(sub, ["checkout", "--quiet", ...back]);
      await updateNested(sub);
      restoreFile(join(dirs[1], "index"), before.subIndex);
      return `${p.harness.path} back on ${before.subBranch || before.checkedOut.slice(0, 7)}`;
    },
  ];
  const done: string[] = [];
  for (const step of steps) {
    const what = await step().catch(
      (e) => `ROLLBACK FAILED: ${e instanceof Error && "code" in e ? e.message : gitMessage(e)}`,
    );
    if (what) done.push(what);
  }
  return done.join(", ");
}

/** The harness's own nested submodules follow its checkout (file urls allowed: they are the harness's). */
async function updateNested(sub: string): Promise<void> {
  if (existsSync(join(sub, ".gitmodules")))
    await gitRaw(sub, ["submodule", "update", "--init", "--recursive", "--quiet"], true);
}

const readBytes = (file: string) => (existsSync(file) ? readFileSync(file) : undefined);

/** `message`: the commit message, when not the usual one (a revert says why). */
export async function pin(p: DesiredProject, action: Action, message?: string): Promise<void> {
  const sub = join(p.location, p.harness.path);
  const to = action.to!;
  await checkPinnable(p, action);
  const dirs: [string, string] = [gitDirOf(p.location)!, gitDirOf(sub)!];
  const before: Before = {
    head: (await gitRaw(p.location, ["rev-parse", "HEAD"])).trim(),
    index: readBytes(join(dirs[0], "index")),
    checkedOut: (await gitRaw(sub, ["rev-parse", "HEAD"])).trim(),
    subBranch: (await gitRaw(sub, ["symbolic-ref", "--quiet", "--short", "HEAD"]).catch(() => "")).trim(),
    subIndex: readBytes(join(dirs[1], "index")),
  };
  try {
    await gitRaw(sub, ["checkout", "--quiet", "--detach", to]);
    await updateNested(sub);
    await gitRaw(p.location, ["add", "--", p.harness.path]);
    const staged = await gitRaw(p.location, ["diff", "--cached", "--name-only", "--", p.harness.path]);
    // Nothing staged: HEAD already records `to` (only the checkout was behind), so there is nothing to commit.
    if (!staged.trim()) {
      if ((await gitlinkIn(p.location, p.harness.path, "HEAD")) !== to)
        throw new Error(`${p.harness.path} did not stage as ${to.slice(0, 12)}`);
      return;
    }
    const text = message ?? (await commitMessage(sub, p, action.from, to));
    // bounded by the harness timeout, hooks included: a hook that hangs is named and stopped
    await gitBounded(p.location, ["commit", "--quiet", "-m", text, "--", p.harness.path], {
      timeoutMs: p.harness.timeoutMs,
      what: `git commit of the pin in ${p.location}`,
    });
    // simple-git reports a git killed by a signal, with nothing on stderr, as a success: verify.
    const head = (await gitRaw(p.location, ["rev-parse", "HEAD"])).trim();
    if (head === before.head) throw new Error("git commit ended without recording the pin (was it interrupted?)");
    const wrong = await notThePin(p.location, p.harness.path, before.head, to);
    if (wrong) throw new Error(`the commit is not the pin: ${wrong}`);
  } catch (e) {
    // A commit that was made after all (git failed after writing it) is a pin done, not undone.
    const head = (await gitRaw(p.location, ["rev-parse", "HEAD"]).catch(() => before.head)).trim();
    if (head !== before.head && !(await notThePin(p.location, p.harness.path, before.head, to).catch(String))) return;
    throw new Error(
      `pin of ${p.name} failed and was rolled back (${await rollback(p, sub, before, dirs)}): ${gitMessage(e)}`,
    );
  }
}
