// Reads an existing repository to adopt it (po import): its harness submodule, the pinned commit,
// the release tag naming it, and whether its agents run. Reads only; changes nothing.
import { realpathSync } from "node:fs";
import { basename, isAbsolute, join, resolve } from "node:path";
import type { HarnessSpec } from "../../reconcile/model.js";
import { gitRaw, submodules, type Submodule } from "../adapters/git.js";
import { sessionName } from "../adapters/tmux.js";
import { newestTag } from "../../reconcile/semver.js";
import { loadAgents } from "../registry/agents-file.js";

export interface Candidate {
  dir: string;
  harness: HarnessSpec;
  pinned: string;
  ref: string;
  enabled: boolean;
  url?: string;
  notes: string[];
}

export type Inspection = { ok: true; candidate: Candidate } | { ok: false; reason: string };

/** A git url in one comparable form: no trailing .git or /, file:// and paths alike, ssh:// and scp-like alike. */
export function normalizeUrl(url: string, base?: string): string {
  let u = url
    .trim()
    .replace(/\/+$/, "")
    .replace(/\.git$/, "");
  if (u.startsWith("file://")) u = u.slice("file://".length);
  const ssh = /^ssh:\/\/([^/]+?)(?::\d+)?\/(.*)$/.exec(u);
  if (ssh) return `${ssh[1].toLowerCase()}:${ssh[2].replace(/^~\//, "")}`;
  const web = /^(https?|git):\/\/([^/]+)\/(.*)$/i.exec(u);
  if (web) return `${web[1].toLowerCase()}://${web[2].toLowerCase()}/${web[3]}`;
  const scp = /^([^/:]+):(?!\/\/)(.*)$/.exec(u);
  if (scp && !isAbsolute(u)) return `${scp[1].toLowerCase()}:${scp[2].replace(/^\/|^~\//, "")}`;
  const path = base && !isAbsolute(u) ? resolve(base, u) : resolve(u);
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** A relative submodule url is relative to the superproject's origin, or to its folder when it has none. */
function submoduleUrl(sub: Submodule, dir: string, origin: string | undefined): string | undefined {
  if (!sub.url) return undefined;
  if (!/^\.\.?\//.test(sub.url)) return normalizeUrl(sub.url);
  return origin ? normalizeUrl(join(origin, sub.url)) : normalizeUrl(sub.url, dir);
}

async function gitOr(dir: string, args: string[]): Promise<string | undefined> {
  return gitRaw(dir, args).then(
    (out) => out.trim(),
    () => undefined,
  );
}

/** The one submodule of a declared harness (or of `forced`), or why there is none. */
function harnessOf(
  subs: Submodule[],
  urls: Map<Submodule, string | undefined>,
  harnesses: HarnessSpec[],
  forced: HarnessSpec | undefined,
): { harness: HarnessSpec; sub: Submodule } | { reason: string } {
  if (forced) {
    const sub = subs.find((s) => s.path === forced.path);
    return sub
      ? { harness: forced, sub }
      : { reason: `it has no submodule at ${forced.path}/ for harness '${forced.name}'` };
  }
  const hits = subs.flatMap((sub) =>
    harnesses.filter((h) => normalizeUrl(h.url) === urls.get(sub)).map((harness) => ({ harness, sub })),
  );
  const exact = hits.filter((x) => x.sub.path === x.harness.path);
  const found = exact.length ? exact : hits;
  if (found.length === 1) return found[0];
  if (found.length > 1)
    return { reason: `it has submodules of ${found.length} declared harnesses; choose one with --harness NAME` };
  const seen = subs.map((s) => `${s.path} (${s.url ?? "no url"})`).join(", ");
  return {
    reason: subs.length
      ? `no submodule of a declared harness; its submodules: ${seen}; declare the harness in ` +
        `fleet.toml or pass --harness NAME`
      : "it has no submodules (no .gitmodules); a project pins its harness as a submodule",
  };
}

/** Release tags by commit for one harness url, read once (git ls-remote; annotated tags peeled). */
export async function remoteTags(url: string): Promise<Map<string, string[]> | undefined> {
  const out = await gitOr(process.cwd(), ["ls-remote", "--tags", "--end-of-options", url]);
  if (out === undefined) return undefined;
  const byCommit = new Map<string, string[]>();
  const direct = new Map<string, string>();
  const peeled = new Map<string, string>();
  for (const line of out.split("\n").filter(Boolean)) {
    const [sha, ref] = line.split("\t");
    const name = ref.replace(/^refs\/tags\//, "");
    if (name.endsWith("^{}")) peeled.set(name.slice(0, -3), sha);
    else direct.set(name, sha);
  }
  for (const [name, sha] of direct) {
    const commit = peeled.get(name) ?? sha;
    byCommit.set(commit, [...(byCommit.get(commit) ?? []), name]);
  }
  return byCommit;
}

/** The ref to write for `commit`: the highest release tag naming it, else the full commit id. */
export function refFor(commit: string, tags: string[]): string {
  return newestTag(tags) ?? newestTag(tags, true) ?? commit;
}

export interface InspectOptions {
  harnesses: HarnessSpec[];
  forced?: HarnessSpec;
  live: Set<string>;
  tags: (h: HarnessSpec) => Promise<Map<string, string[]> | undefined>;
}

/** What fleet.toml would say of the repository at `dir`, or why it cannot be adopted. */
export async function inspectRepository(dir: string, opts: InspectOptions): Promise<Inspection> {
  const top = await gitOr(dir, ["rev-parse", "--show-toplevel"]);
  if (top === undefined || realpathSync(top) !== realpathSync(dir))
    return { ok: false, reason: top === undefined ? "not a git repository" : `not the top of its repository (${top})` };
  const origin = await gitOr(dir, ["config", "--get", "remote.origin.url"]);
  const subs = await submodules(dir);
  const urls = new Map(subs.map((s) => [s, submoduleUrl(s, dir, origin)]));
  const found = harnessOf(subs, urls, opts.harnesses, opts.forced);
  if ("reason" in found) return { ok: false, reason: found.reason };
  const { harness } = found;
  const tree = await gitOr(dir, ["ls-tree", "-z", "HEAD", "--", harness.path]);
  const m = tree ? /^160000 commit ([0-9a-f]+)\t/.exec(tree) : null;
  if (!m) return { ok: false, reason: `HEAD records no commit of the harness at ${harness.path}/ (commit it first)` };
  const pinned = m[1];
  const notes: string[] = [];
  const sub = join(dir, harness.path);
  const checkedOut = await gitOr(sub, ["rev-parse", "--verify", "HEAD"]);
  if (checkedOut && checkedOut !== pinned)
    notes.push(`${harness.path}/ has ${checkedOut.slice(0, 12)} checked out, not the pinned ${pinned.slice(0, 12)}`);
  const dirty = checkedOut ? await gitOr(sub, ["status", "--porcelain"]) : "";
  if (dirty) notes.push(`${harness.path}/ has local changes; po will refuse to re-pin it until they are committed`);
  const local = checkedOut ? await gitOr(sub, ["tag", "--points-at", pinned, "--no-column"]) : undefined;
  const tags = [...((await opts.tags(harness))?.get(pinned) ?? []), ...(local ? local.split("\n") : [])];
  const agents = await loadAgents(dir);
  const names = agents.config?.agents.map((a) => a.name) ?? [];
  if (!agents.config) notes.push("its agents.toml cannot be read, so it is imported disabled");
  const live = names.filter((a) => opts.live.has(sessionName(dir, a, harness.session)));
  if (live.length && live.length < names.length)
    notes.push(`only ${live.length} of its ${names.length} agents run; imported enabled, so po apply starts the rest`);
  const candidate: Candidate = { dir, harness, pinned, ref: refFor(pinned, tags), enabled: live.length > 0, notes };
  if (origin) candidate.url = origin;
  return { ok: true, candidate };
}

/** A project name made from a folder name: lowercase, only [a-z0-9._-], starting with a letter or digit. */
export function nameFor(dir: string): string {
  return basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .replace(/-+$/, "");
}
