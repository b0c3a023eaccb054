// Observes the actual state of every project: repository, harness pin, submodule checkout, the
// commit the desired ref resolves to, local changes, agents and live sessions. Reads only.
//
// Each git question is first put to the fast path (src/git-files.ts), which reads the answer from
// the repository's files or declines; only a declined question starts git. Live sessions come from
// one tmux call for the whole fleet, started before the projects are read.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ActualProject, DesiredProject, HarnessSpec, InventoryEntry } from "../../reconcile/model.js";
import { mapLimit } from "../../reconcile/limit.js";
import { loadAgents } from "../registry/agents-file.js";
import { Repo, tryFast } from "./git-files.js";
import { gitRaw } from "../adapters/git.js";
import { resolver, type Resolver } from "./resolve-ref.js";
import { liveOf, sessionInfo, sessionName, type SessionInfo } from "../adapters/tmux.js";

export interface ObserveOptions {
  offline?: boolean;
  concurrency?: number;
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
function repoBlocked(has: (name: string) => boolean, head: string): string | undefined {
  if (has("MERGE_HEAD")) return "a merge is in progress; finish or abort it first";
  if (has("rebase-merge") || has("rebase-apply")) return "a rebase is in progress; finish or abort it first";
  if (has("CHERRY_PICK_HEAD")) return "a cherry-pick is in progress; finish or abort it first";
  if (!head.startsWith("ref: ")) return "HEAD is detached; check out a branch first";
  return undefined;
}

export function blockedOf(repo: Repo | undefined, gitDir: string): string | undefined {
  if (repo) return repoBlocked((n) => repo.has(n), repo.headText());
  return repoBlocked((n) => existsSync(join(gitDir, n)), readFileSync(join(gitDir, "HEAD"), "utf8"));
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

function sessionsPart(harness: HarnessSpec, location: string, agents: string[], live: Set<string>) {
  const sessions = agents.map((a) => sessionName(location, a, harness.session));
  return { sessions, live: sessions.filter((s) => live.has(s)) };
}

/** `live` may still be on its way (the fleet's one tmux call runs while the repositories are read). */
export async function observeProject(
  p: DesiredProject,
  live: Set<string> | Promise<Set<string>>,
  refs: Resolver,
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
  if (!base.exists) return base;
  const gitDir = repo?.gitDir ?? gitDirOf(p.location);
  if (!gitDir) return { ...base, ...(await agentsOf(p.location)) };
  const submodule = join(p.location, p.harness.path);
  const subRepo = openFast(submodule);
  const [pinned, sub, agents] = await Promise.all([
    pinnedCommit(repo, p.location, p.harness.path),
    submoduleState(submodule, subRepo),
    agentsOf(p.location),
  ]);
  const ref = await refs.resolve(p.harness, p.ref, sub.checkedOut ? submodule : undefined, subRepo);
  const blocked = blockedOf(repo, gitDir);
  return {
    ...base,
    isRepo: true,
    ...(blocked ? { repoBlocked: blocked } : {}),
    ...(pinned ? { pinned } : {}),
    ...sub,
    ...(ref.commit ? { resolved: ref.commit } : { resolveError: ref.error }),
    ...agents,
    ...sessionsPart(p.harness, p.location, agents.agents, await live),
  };
}

/** Sessions of projects that left fleet.toml: only their sessions matter, to stop them. */
async function observeRemoved(entry: InventoryEntry, live: Set<string>): Promise<ActualProject> {
  const exists = existsSync(entry.location);
  const agents = exists ? await agentsOf(entry.location) : { agents: [] };
  return {
    name: entry.name,
    exists,
    isRepo: exists && Boolean(gitDirOf(entry.location)),
    ...agents,
    ...sessionsPart(entry.harness, entry.location, agents.agents, live),
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
  const actual = await mapLimit(projects, limit, (p) => observeProject(p, live, refs));
  const gone = await mapLimit(removed, limit, async (e) => observeRemoved(e, await live));
  return {
    actual: new Map(actual.map((a) => [a.name, a])),
    removed: new Map(gone.map((a) => [a.name, a])),
    sessions: await info,
  };
}
