// Observes the actual state of every project: repository, harness pin, submodule checkout, the
// commit the desired ref resolves to, local changes, agents and live sessions. Reads only.
//
// Each git question is first put to the fast path (src/git-files.ts), which reads the answer from
// the repository's files or declines; only a declined question starts git. Live sessions come from
// one tmux call for the whole fleet, started before the projects are read.
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ActualProject, DesiredProject, HarnessSpec, InventoryEntry } from "../../reconcile/model.js";
import { mapLimit } from "../../reconcile/limit.js";
import { loadAgents } from "../registry/agents-file.js";
import { knownEntry } from "../state/inventory.js";
import { Repo, tryFast } from "./git-files.js";
import { gitMessage, gitRaw } from "../adapters/git.js";
import { resolver, type Resolver } from "./resolve-ref.js";
import { liveOf, sessionInfo, sessionName, type SessionInfo } from "../adapters/tmux.js";

export interface ObserveOptions {
  offline?: boolean;
  concurrency?: number;
  /** what the last apply recorded of each project: session names to fall back on and to find orphans by */
  inventory?: InventoryEntry[];
}

/** The git directory of a work tree (`.git` may be a directory or a `gitdir:` file); undefined if none. */
export function gitDirOf(workTree: string): string | undefined {
  const dotGit = join(workTree, ".git");
  if (!statSync(workTree, { throwIfNoEntry: false })?.isDirectory()) return undefined;
  const info = statSync(dotGit, { throwIfNoEntry: false });
  if (!info) return undefined;
  if (info.isDirectory()) return dotGit;
  const m = /^gitdir: (.*)$/m.exec(readFileSync(dotGit, "utf8"));
  return m ? resolve(workTree, m[1].trim()) : undefined;
}

/**
 * Why the repository cannot take a commit now, or undefined: a commit in the middle of a merge or
 * rebase, or on a detached HEAD, would land where the operator does not expect it.
 */
function repoBlocked(has: (name: string) => boolean, head: string | undefined, gitDir: string): string | undefined {
  const busy = (what: string) => `${what} is in progress; finish or abort it first`;
  if (has("MERGE_HEAD")) return busy("a merge");
  // git am and git rebase (apply backend) share rebase-apply/; am marks it with an "applying" file.
  if (has("rebase-apply") && existsSync(join(gitDir, "rebase-apply", "applying"))) return busy("git am");
  if (has("rebase-merge") || has("rebase-apply")) return busy("a rebase");
  if (has("CHERRY_PICK_HEAD")) return busy("a cherry-pick");
  if (has("REVERT_HEAD")) return busy("a revert");
  if (has("sequencer")) return busy("a cherry-pick or revert of several commits");
  if (has("BISECT_LOG") || has("BISECT_START")) return busy("a bisect");
  if (head !== undefined && !head.startsWith("ref: ")) return "HEAD is detached; check out a branch first";
  return undefined;
}

/** Why the repository cannot take a commit now; `detachedOk` for a submodule, whose HEAD is detached by design. */
export function blockedOf(repo: Repo | undefined, gitDir: string, detachedOk = false): string | undefined {
  const head = () => (detachedOk ? undefined : repo ? repo.headText() : readFileSync(join(gitDir, "HEAD"), "utf8"));
  if (repo) return repoBlocked((n) => repo.has(n), head(), gitDir);
  return repoBlocked((n) => existsSync(join(gitDir, n)), head(), gitDir);
}

async function pinnedCommit(repo: Repo | undefined, location: string, path: string): Promise<string | undefined> {
  const f = repo && tryFast(`the pin of ${location}`, () => repo.gitlinkInHead(path));
  if (f?.ok) return f.value;
  const out = await gitRaw(location, ["ls-tree", "-z", "HEAD", "--", path]).catch(() => "");
  const m = /^160000 commit ([0-9a-f]+)\t/.exec(out);
  return m?.[1];
}

async function submoduleState(dir: string, repo: Repo | undefined): Promise<{ checkedOut?: string; dirty?: string }> {
  if (!repo && !gitDirOf(dir)) return {};
  const head = repo && tryFast(`HEAD of ${dir}`, () => repo.head());
  const checkedOut = head?.ok
    ? head.value
    : (await gitRaw(dir, ["rev-parse", "--verify", "--quiet", "HEAD"]).catch(() => "")).trim() || undefined;
  if (repo && tryFast(`whether ${dir} is clean`, () => repo.isClean())?.ok) return { checkedOut };
  const status = await gitRaw(dir, ["status", "--porcelain", "--untracked-files=normal"]);
  const lines = status.split("\n").filter(Boolean);
  const dirty = lines.length
    ? `${lines.length} changed or untracked file${lines.length > 1 ? "s" : ""}: ${lines
        .slice(0, 3)
        .map((l) => l.slice(3))
        .join(", ")}${lines.length > 3 ? ", …" : ""}`
    : undefined;
  return { checkedOut, ...(dirty ? { dirty } : {}) };
}

/** The repository at `dir` as the fast path reads it, or undefined (then git is asked). */
function openFast(dir: string): Repo | undefined {
  const r = tryFast(`the repository at ${dir}`, () => Repo.open(dir));
  return r?.ok ? r.value : undefined;
}

async function agentsOf(location: string): Promise<{ agents: string[]; agentsError?: string }> {
  const { config, problems } = await loadAgents(location);
  if (config) return { agents: config.agents.map((a) => a.name) };
  const p = problems[0];
  return {
    agents: [],
    agentsError: `agents.toml: ${p.line ? `line ${p.line}: ` : ""}${p.path ? `${p.path}: ` : ""}${p.message}`,
  };
}

/**
 * The project's sessions from its agents.toml; when that cannot be read, the names the inventory
 * recorded at the last apply. Orphans: recorded, live, and no longer any agent's. Only names po
 * recorded itself are ever tied to a project, never a look-alike that merely shares a prefix.
 */
function sessionsPart(
  harness: HarnessSpec,
  location: string,
  agents: { agents: string[]; agentsError?: string },
  live: Set<string>,
  known?: InventoryEntry,
) {
  const recorded = known?.sessions ?? [];
  const named = agents.agents.map((a) => sessionName(location, a, harness.session));
  const sessions = agents.agentsError !== undefined && !named.length ? recorded : named;
  const orphans = recorded.filter((s) => !sessions.includes(s) && live.has(s));
  return { sessions, live: sessions.filter((s) => live.has(s)), ...(orphans.length ? { orphans } : {}) };
}

/** A symlink at the harness path: git does not take it as a submodule; acting through it moves another repository. */
function symlinked(location: string, path: string): string | undefined {
  const sub = join(location, path);
  if (!lstatSync(sub, { throwIfNoEntry: false })?.isSymbolicLink()) return undefined;
  return (
    `${path} in ${location} is a symlink (to ${readlinkSync(sub)}), which git does not take as a submodule; ` +
    `replace it with the submodule's own checkout (remove the link, git submodule update --init ${path})`
  );
}

/** `head` when no branch, tag or remote-tracking branch of `sub` reaches it (unsure counts as unreachable). */
export async function unreachableHead(sub: string, head: string): Promise<string | undefined> {
  const args = ["for-each-ref", "--count=1", "--format=%(refname)", `--contains=${head}`];
  const out = await gitRaw(sub, [...args, "refs/heads", "refs/tags", "refs/remotes"]).catch(() => "");
  return out.trim() ? undefined : head;
}

const NESTED = { "-": "not initialized", "+": "on another commit", U: "in conflict" } as Record<string, string>;

/** Nested submodules of the harness checkout that are not on the commits it records, described. */
export async function nestedStale(sub: string): Promise<string | undefined> {
  if (!existsSync(join(sub, ".gitmodules"))) return undefined;
  const out = await gitRaw(sub, ["submodule", "status", "--recursive"]).catch((e) => `? ${gitMessage(e)}`);
  const stale = out
    .split("\n")
    .filter((l) => l && !l.startsWith(" "))
    .map((l) => /^([-+U])[0-9a-f]+ (\S+)/.exec(l))
    .map((m) => (m ? `${m[2]} ${NESTED[m[1]]}` : out.trim()));
  return stale.length ? stale.join(", ") : undefined;
}

/** `live` may still be on its way (the fleet's one tmux call runs while the repositories are read). */
export async function observeProject(
  p: DesiredProject,
  live: Set<string> | Promise<Set<string>>,
  refs: Resolver,
  known?: InventoryEntry,
): Promise<ActualProject> {
  const repo = openFast(p.location);
  const base: ActualProject = {
    name: p.name,
    exists: repo !== undefined || existsSync(p.location),
    isRepo: false,
    agents: [],
    sessions: [],
    live: [],
  };
  // A folder that is gone still has the sessions po recorded for it: they can be stopped.
  if (!base.exists) return { ...base, ...sessionsPart(p.harness, p.location, { agents: [] }, await live, known) };
  const gitDir = repo?.gitDir ?? gitDirOf(p.location);
  const agentsNow = () => agentsOf(p.location);
  if (!gitDir) {
    const agents = await agentsNow();
    return { ...base, ...agents, ...sessionsPart(p.harness, p.location, agents, await live, known) };
  }
  const link = symlinked(p.location, p.harness.path);
  const submodule = join(p.location, p.harness.path);
  const subRepo = link ? undefined : openFast(submodule);
  const [pinned, sub, agents] = await Promise.all([
    pinnedCommit(repo, p.location, p.harness.path),
    link ? ({} as { checkedOut?: string; dirty?: string }) : submoduleState(submodule, subRepo),
    agentsNow(),
  ]);
  const ref = await refs.resolve(p.harness, p.ref, sub.checkedOut ? submodule : undefined, subRepo);
  const blocked = blockedOf(repo, gitDir);
  const off =
    sub.checkedOut && sub.checkedOut !== pinned ? await unreachableHead(submodule, sub.checkedOut) : undefined;
  const nested = sub.checkedOut ? await nestedStale(submodule) : undefined;
  return {
    ...base,
    isRepo: true,
    ...(blocked ? { repoBlocked: blocked } : {}),
    ...(pinned ? { pinned } : {}),
    ...sub,
    ...(link ? { harnessBlocked: link } : {}),
    ...(off ? { unreachable: off } : {}),
    ...(nested ? { nestedStale: nested } : {}),
    ...(ref.commit ? { resolved: ref.commit } : { resolveError: ref.error }),
    ...agents,
    ...sessionsPart(p.harness, p.location, agents, await live, known),
  };
}

/** Sessions of projects that left fleet.toml: only their sessions matter, to stop them. */
async function observeRemoved(entry: InventoryEntry, live: Set<string>): Promise<ActualProject> {
  const exists = existsSync(entry.location);
  const agents = exists ? await agentsOf(entry.location) : { agents: [] };
  // Every session po knows of it, from its agents.toml (if still there) and from the inventory.
  const named = sessionsPart(entry.harness, entry.location, { agents: agents.agents }, live).sessions;
  const sessions = [...new Set([...named, ...(entry.sessions ?? [])])];
  return {
    name: entry.name,
    exists,
    isRepo: exists && Boolean(gitDirOf(entry.location)),
    ...agents,
    sessions,
    live: sessions.filter((s) => live.has(s)),
  };
}

export interface Observation {
  actual: Map<string, ActualProject>;
  removed: Map<string, ActualProject>;
  /** every tmux session, from the one call */
  sessions: Map<string, SessionInfo>;
}

export async function observeFleet(
  projects: DesiredProject[],
  removed: InventoryEntry[],
  opts: ObserveOptions = {},
): Promise<Observation> {
  const info = sessionInfo();
  const live = info.then(liveOf);
  live.catch(() => {}); // awaited below; a failure surfaces there, not as an unhandled rejection
  const refs = resolver(Boolean(opts.offline));
  const limit = opts.concurrency ?? 8;
  const inventory = opts.inventory ?? [];
  const actual = await mapLimit(projects, limit, (p) => observeProject(p, live, refs, knownEntry(inventory, p)));
  const gone = await mapLimit(removed, limit, async (e) => observeRemoved(e, await live));
  return {
    actual: new Map(actual.map((a) => [a.name, a])),
    removed: new Map(gone.map((a) => [a.name, a])),
    sessions: await info,
  };
}
