// Observes the actual state of every project: repository, harness pin, submodule checkout, the
// commit the desired ref resolves to, local changes, agents and live sessions. Reads only.
//
// Per project only what is cheap and certain is read by hand (git-read.ts): the gitlink in HEAD's
// tree and the submodule's HEAD; a repository the reader is unsure of is asked of git for that one
// question. Refs are resolved once per harness (resolve-ref.ts). Whether the submodule has local
// changes matters only when a pin is planned, so only then is git status asked, a few at a time.
// Live sessions come from one tmux call for the whole fleet, started before the projects are read.
import { existsSync, lstatSync, readFileSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import type { ActualProject, DesiredProject, HarnessSpec, InventoryEntry } from "../../reconcile/model.js";
import { mapLimit } from "../../reconcile/limit.js";
import { pinNeeded } from "../../reconcile/plan.js";
import { loadAgents } from "../registry/agents-file.js";
import { gitMessage, gitOut } from "../adapters/git.js";
import { Repo } from "./git-read.js";
import { resolver, type Resolver } from "./resolve-ref.js";
import { listSessions, sessionName } from "../adapters/tmux.js";

/** The git directory of a work tree (`.git` a directory or a `gitdir:` file); undefined when it has none. */
export function gitDirOf(workTree: string): string | undefined {
  const info = statSync(workTree, { throwIfNoEntry: false })?.isDirectory()
    ? lstatSync(`${workTree}/.git`, { throwIfNoEntry: false })
    : undefined;
  if (info?.isDirectory()) return `${workTree}/.git`;
  if (!info?.isFile()) return undefined;
  const m = /^gitdir: (.*?)[\r\n]*$/.exec(readFileSync(`${workTree}/.git`, "utf8"));
  return m ? resolve(workTree, m[1]) : undefined;
}

export interface ObserveOptions {
  offline?: boolean;
  concurrency?: number;
  /** .ao-state beside fleet.toml: where the harness mirrors live */
  stateDir?: string;
}

/**
 * Why the repository cannot take a commit now, or undefined: a commit in the middle of a merge or
 * rebase, or on a detached HEAD, would land where the operator does not expect it.
 */
export function blockedOf(gitDir: string): string | undefined {
  const has = (name: string) => existsSync(join(gitDir, name));
  if (has("MERGE_HEAD")) return "a merge is in progress; finish or abort it first";
  if (has("rebase-merge") || has("rebase-apply")) return "a rebase is in progress; finish or abort it first";
  if (has("CHERRY_PICK_HEAD")) return "a cherry-pick is in progress; finish or abort it first";
  if (!readFileSync(join(gitDir, "HEAD"), "utf8").startsWith("ref: "))
    return "HEAD is detached; check out a branch first";
  return undefined;
}

const ASK = Symbol("ask git");

/** The reader's answer, or ASK when it is unsure (said under PO_DEBUG): then git is asked. */
function byHand<T>(what: string, fn: () => T): T | typeof ASK {
  try {
    return fn();
  } catch (e) {
    if (process.env.PO_DEBUG)
      process.stderr.write(`po: reader unsure of ${what} (${(e as Error).message}); asking git\n`);
    return ASK;
  }
}

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
const gitGate = gate(Math.max(8, availableParallelism()));

/** The repository at `dir` as the reader opens it; undefined when it has no `.git`; ASK when unsure. */
function open(dir: string): Repo | undefined | typeof ASK {
  return byHand(`the repository at ${dir}`, () => Repo.at(dir));
}

async function pinnedCommit(location: string, repo: Repo | typeof ASK, path: string): Promise<string | undefined> {
  const hand = repo === ASK ? ASK : byHand(`the pin in ${location}`, () => repo.gitlinkInHead(path));
  if (hand !== ASK) return hand;
  const out = await gitGate(() => gitOut(location, ["ls-tree", "-z", "HEAD", "--", path])).catch(() => "");
  return /^160000 commit ([0-9a-f]+)\t/.exec(out)?.[1];
}

/** The submodule's HEAD; undefined when it is not checked out (no `.git`: git would answer for the project). */
async function checkedOutCommit(sub: string): Promise<string | undefined> {
  const repo = open(sub);
  if (repo === undefined || (repo === ASK && !gitDirOf(sub))) return undefined;
  const hand = repo === ASK ? ASK : byHand(`HEAD of ${sub}`, () => repo.head());
  if (hand !== ASK) return hand;
  const out = await gitGate(() => gitOut(sub, ["rev-parse", "--verify", "--quiet", "HEAD"])).catch(() => "");
  return out.trim() || undefined;
}

/** Local changes in the submodule as git status sees them (untracked files and nested submodules count). */
async function localChanges(sub: string): Promise<string | undefined> {
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
  const repo = open(p.location);
  const gitDir = repo === ASK ? gitDirOf(p.location) : repo?.gitDir;
  // only without a repository does it matter whether the location exists at all (one more look)
  const exists = gitDir !== undefined || existsSync(p.location);
  const base: ActualProject = { name: p.name, exists, isRepo: false, agents: [], sessions: [], live: [] };
  if (!gitDir) return exists ? { ...base, ...(await agentsOf(p.location)) } : base;
  const sub = join(p.location, p.harness.path);
  const pinned = await pinnedCommit(p.location, repo!, p.harness.path);
  const checkedOut = await checkedOutCommit(sub);
  const [ref, agents] = await Promise.all([
    refs.resolve(p.harness, p.ref, checkedOut ? sub : undefined),
    agentsOf(p.location),
  ]);
  const actual: ActualProject = {
    ...base,
    isRepo: true,
    ...(pinned ? { pinned } : {}),
    ...(checkedOut ? { checkedOut } : {}),
    ...(ref.commit ? { resolved: ref.commit } : { resolveError: ref.error }),
    ...(ref.branch ? { refIsBranch: true } : {}),
    ...agents,
    ...sessionsPart(p.harness, p.location, agents.agents, await live),
  };
  if (!pinNeeded(actual)) return actual;
  const blocked = blockedOf(gitDir);
  const dirty = checkedOut ? await localChanges(sub) : undefined;
  return { ...actual, ...(blocked ? { repoBlocked: blocked } : {}), ...(dirty ? { dirty } : {}) };
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
  /** the refs as resolved for this observation, and the tag names of their harnesses */
  refs: Resolver;
}

export async function observeFleet(
  projects: DesiredProject[],
  removed: InventoryEntry[],
  opts: ObserveOptions = {},
): Promise<Observation> {
  const live = listSessions();
  live.catch(() => {}); // awaited below; a failure surfaces there, not as an unhandled rejection
  const refs = resolver(Boolean(opts.offline), opts.stateDir);
  // Every ref of a harness in one go: one look into its mirror, at most one fetch.
  const wanted = new Map<string, { harness: HarnessSpec; refs: string[] }>();
  for (const p of projects) {
    const key = `${p.harness.name}\0${p.harness.url}`;
    if (!wanted.has(key)) wanted.set(key, { harness: p.harness, refs: [] });
    wanted.get(key)!.refs.push(p.ref);
  }
  for (const w of wanted.values()) refs.prepare(w.harness, w.refs);
  // Many projects at once: reading by hand is synchronous, and no project waits for the harness's
  // refs or for git while the others could be read; git itself runs a few at a time (gitGate).
  const limit = opts.concurrency ?? 256;
  const actual = await mapLimit(projects, limit, (p) => observeProject(p, live, refs));
  const gone = await mapLimit(removed, limit, async (e) => observeRemoved(e, await live));
  return {
    actual: new Map(actual.map((a) => [a.name, a])),
    removed: new Map(gone.map((a) => [a.name, a])),
    refs,
  };
}
