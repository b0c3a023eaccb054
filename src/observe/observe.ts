// Observes the actual state of every project: repository, harness pin, submodule checkout, the
// commit the desired ref resolves to, local changes, agents and live sessions. Reads only.
//
// Per project only what is cheap and certain is read by hand (git-read.ts): the gitlink in HEAD's
// tree and the submodule's HEAD; a repository the reader is unsure of is asked of git for that one
// question. Refs are resolved once per harness (resolve-ref.ts). Whether the submodule has local
// changes matters only when a pin is planned, so only then is git status asked, a few at a time.
// Live sessions come from one tmux call for the whole fleet, started before the projects are read.
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ActualProject, DesiredProject, HarnessSpec, InventoryEntry } from "../../reconcile/model.js";
import { mapLimit } from "../../reconcile/limit.js";
import { pinNeeded } from "../../reconcile/plan.js";
import { loadAgents } from "../registry/agents-file.js";
import { gitOut } from "../adapters/git.js";
import { Repo } from "./git-read.js";
import { gitGate, localChanges, nestedStale, unreachableHead } from "./harness-checkout.js";
import { resolver, type Resolver } from "./resolve-ref.js";
import { liveOf, sessionInfo, sessionName, type SessionInfo } from "../adapters/tmux.js";
import { knownEntry } from "../state/inventory.js";

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
  /** what the last apply recorded of each project: session names to fall back on and to find orphans by */
  inventory?: InventoryEntry[];
}

/**
 * Why the repository cannot take a commit now, or undefined: a commit in the middle of a merge,
 * rebase, revert, cherry-pick, bisect or `git am`, or on a detached HEAD, would land where the
 * operator does not expect it. `detachedOk` for a submodule, whose HEAD is detached by design.
 */
export function blockedOf(gitDir: string, detachedOk = false): string | undefined {
  const has = (name: string) => existsSync(join(gitDir, name));
  const busy = (what: string) => `${what} is in progress; finish or abort it first`;
  if (has("MERGE_HEAD")) return busy("a merge");
  // git am and git rebase (apply backend) share rebase-apply/; am marks it with an "applying" file.
  if (has("rebase-apply") && existsSync(join(gitDir, "rebase-apply", "applying"))) return busy("git am");
  if (has("rebase-merge") || has("rebase-apply")) return busy("a rebase");
  if (has("CHERRY_PICK_HEAD")) return busy("a cherry-pick");
  if (has("REVERT_HEAD")) return busy("a revert");
  if (has("sequencer")) return busy("a cherry-pick or revert of several commits");
  if (has("BISECT_LOG") || has("BISECT_START")) return busy("a bisect");
  if (!detachedOk && !readFileSync(join(gitDir, "HEAD"), "utf8").startsWith("ref: "))
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

/** `live` may still be on its way (the fleet's one tmux call runs while the repositories are read). */
export async function observeProject(
  p: DesiredProject,
  live: Set<string> | Promise<Set<string>>,
  refs: Resolver,
  known?: InventoryEntry,
): Promise<ActualProject> {
  const repo = open(p.location);
  const gitDir = repo === ASK ? gitDirOf(p.location) : repo?.gitDir;
  // only without a repository does it matter whether the location exists at all (one more look)
  const exists = gitDir !== undefined || existsSync(p.location);
  const base: ActualProject = { name: p.name, exists, isRepo: false, agents: [], sessions: [], live: [] };
  // A folder that is gone still has the sessions po recorded for it: they can be stopped.
  if (!exists) return { ...base, ...sessionsPart(p.harness, p.location, { agents: [] }, await live, known) };
  if (!gitDir) {
    const agents = await agentsOf(p.location);
    return { ...base, ...agents, ...sessionsPart(p.harness, p.location, agents, await live, known) };
  }
  const sub = join(p.location, p.harness.path);
  const link = symlinked(p.location, p.harness.path);
  const pinned = await pinnedCommit(p.location, repo!, p.harness.path);
  const checkedOut = link ? undefined : await checkedOutCommit(sub);
  const [ref, agents] = await Promise.all([
    refs.resolve(p.harness, p.ref, checkedOut ? sub : undefined),
    agentsOf(p.location),
  ]);
  const off = checkedOut && checkedOut !== pinned ? await unreachableHead(sub, checkedOut) : undefined;
  const nested = checkedOut ? await nestedStale(sub) : undefined;
  const actual: ActualProject = {
    ...base,
    isRepo: true,
    ...(pinned ? { pinned } : {}),
    ...(checkedOut ? { checkedOut } : {}),
    ...(link ? { harnessBlocked: link } : {}),
    ...(off ? { unreachable: off } : {}),
    ...(nested ? { nestedStale: nested } : {}),
    ...(ref.commit ? { resolved: ref.commit } : { resolveError: ref.error }),
    ...(ref.branch ? { refIsBranch: true } : {}),
    ...agents,
    ...sessionsPart(p.harness, p.location, agents, await live, known),
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
  /** the refs as resolved for this observation, and the tag names of their harnesses */
  refs: Resolver;
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
  const inventory = opts.inventory ?? [];
  const actual = await mapLimit(projects, limit, (p) => observeProject(p, live, refs, knownEntry(inventory, p)));
  const gone = await mapLimit(removed, limit, async (e) => observeRemoved(e, await live));
  return {
    actual: new Map(actual.map((a) => [a.name, a])),
    removed: new Map(gone.map((a) => [a.name, a])),
    refs,
    sessions: await info,
  };
}
