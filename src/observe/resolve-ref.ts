// Resolves harness refs to commits once per harness and run: the harness repository is the source of
// truth, so every project asking for v0.2.0 gets the same commit whatever its own checkout fetched.
//
// po keeps a bare mirror of each harness in .ao-state/harnesses/ (0700, files 0600), cloned on first
// use and fetched only when a wanted ref is unknown there or is a branch (branches move; tags and
// commit ids are taken as they are). Refs are resolved in the mirror by git itself, exactly as
// `git rev-parse --verify REF^{commit}` would (a tag wins over a branch of the same name, an
// annotated tag's own id peels to its commit, an id no object has is unknown), for all wanted refs
// and every tag in one `cat-file --batch-check`; the tags give display names ("pinned v0.1.0").
// --offline never fetches: the mirror answers what it knows, then the project's own checkout.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { HarnessSpec } from "../../reconcile/model.js";
import { redactUrl } from "../common/redact.js";
import { privateDir } from "../state/private.js";
import { gitMessage, gitOut } from "../adapters/git.js";

export interface Resolution {
  commit?: string;
  error?: string;
  /** the ref names a branch (and so may have moved since the pin) */
  branch?: boolean;
  /** the harness could not be reached: what po has already (its mirror, the checkout) may answer */
  unreachable?: boolean;
}

export interface Resolver {
  /** Starts resolving these refs of a harness together: at most one fetch for all of them. */
  prepare(harness: HarnessSpec, refs: string[]): void;
  /** `submodule`: the project's checkout, asked only offline when the mirror does not know the ref. */
  resolve(harness: HarnessSpec, ref: string, submodule?: string): Promise<Resolution>;
  /** The first tag (by name) of the harness that names `commit`, for display. */
  tagOf(harness: HarnessSpec, commit: string, submodule?: string): Promise<string | undefined>;
}

interface Known {
  /** wanted ref → its commit, when git resolves it */
  commits: Map<string, string>;
  branches: Set<string>;
}

const HEX = /^[0-9a-f]{4,64}$/;
const OID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
// What may go into a batch line: no blanks or control characters (registry checks the rest).
const SAFE_REF = /^[^\x00-\x20\x7f]+$/;

/** `cat-file --batch-check` of `queries` in `dir`: the object id of each, or undefined. */
async function batchCheck(dir: string, queries: string[]): Promise<(string | undefined)[]> {
  const input = queries.map((q) => `${q}\n`).join("");
  const lines = (await gitOut(dir, ["cat-file", "--batch-check=%(objectname)"], { input })).split("\n");
  return queries.map((_, i) => (OID.test(lines[i]) ? lines[i] : undefined));
}

/**
 * `refs` resolved in the repository at `dir` in one git call: each `REF^{commit}`, and whether git
 * finds REF as a branch (the first of its names in git's order, ref_rev_parse_rules, that exists).
 */
async function lookup(dir: string, refs: string[]): Promise<Known> {
  const names = (r: string) =>
    OID.test(r)
      ? [] // a full id is an object id
      : [...(r.startsWith("refs/") ? [r] : []), `refs/${r}`, `refs/tags/${r}`, `refs/heads/${r}`, `refs/remotes/${r}`];
  const queries = refs.flatMap((r) => [`${r}^{commit}`, ...names(r)]);
  const ids = await batchCheck(dir, queries);
  const known: Known = { commits: new Map(), branches: new Set() };
  let i = 0;
  for (const r of refs) {
    const [commit, ...there] = ids.slice(i, (i += 1 + names(r).length));
    if (commit) known.commits.set(r, commit);
    const found = names(r).find((_, k) => there[k] !== undefined);
    if (found?.startsWith("refs/heads/")) known.branches.add(r);
  }
  return known;
}

/** commit → the names of the tags that name it (peeled), sorted: two git calls, made when first asked. */
async function tagsOf(dir: string): Promise<Map<string, string[]>> {
  const tags = (await gitOut(dir, ["for-each-ref", "--format=%(refname)", "refs/tags"])).split("\n").filter(Boolean);
  const ids = await batchCheck(
    dir,
    tags.map((t) => `${t}^{commit}`),
  );
  const out = new Map<string, string[]>();
  // for-each-ref lists them by name: the first is the one shown
  tags.forEach((t, i) => ids[i] && out.set(ids[i]!, [...(out.get(ids[i]!) ?? []), t.slice(10)]));
  return out;
}

/** A relative local path is taken from the current folder, as git clone would, wherever git runs. */
function absoluteUrl(url: string): string {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url) || /^[^/]+:/.test(url) ? url : resolve(url);
}

/** Folders 0700, files 0600 (0400 when git made them read-only): the mirror is po's alone. */
function lockDown(path: string): void {
  for (const d of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, d.name);
    if (d.isDirectory()) lockDown(p);
    else if (d.isFile()) chmodSync(p, p.includes("/objects/") ? 0o400 : 0o600);
  }
  chmodSync(path, 0o700);
}

async function createMirror(url: string, dir: string): Promise<void> {
  const parent = join(dir, "..");
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    const clone = ["clone", "--mirror", "--no-hardlinks", "--quiet", "--template=", "--end-of-options", url, tmp];
    await gitOut(parent, clone, { remote: true });
    // later fetches write their files 0600 too; fetches name the url, so the mirror's own config
    // keeps none of its credentials
    await gitOut(tmp, ["config", "core.sharedRepository", "0600"]);
    await gitOut(tmp, ["config", "remote.origin.url", redactUrl(url)]);
    lockDown(tmp);
    if (!existsSync(dir)) renameSync(tmp, dir); // else another po made it meanwhile: use that one
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function fetchMirror(url: string, dir: string): Promise<void> {
  const args = ["fetch", "--quiet", "--prune", "--no-write-fetch-head", "--end-of-options", url, "+refs/*:refs/*"];
  await gitOut(dir, args, { remote: true });
}

/**
 * `refs/tags/REF`, then `origin/REF`, then REF itself in a project's checkout (offline). With
 * `immutable` (the harness unreachable) only what cannot have moved: a tag, or a commit id.
 */
async function fromCheckout(dir: string, ref: string, immutable = false): Promise<string | undefined> {
  const names = immutable
    ? [`refs/tags/${ref}`, ...(HEX.test(ref) ? [ref] : [])]
    : [`refs/tags/${ref}`, `refs/remotes/origin/${ref}`, ref];
  const input = names.map((q) => `${q}^{commit}\n`).join("");
  const out = await gitOut(dir, ["cat-file", "--batch-check=%(objectname)"], { input }).catch(() => "");
  return out.split("\n").find((l) => /^[0-9a-f]{40,64}$/.test(l));
}

/** The first tag (by name) at `commit` in the repository at `dir`, asked of git there. */
export async function tagAt(dir: string, commit: string): Promise<string | undefined> {
  // --sort and --no-column: one order whatever tag.sort or column.ui say
  const out = await gitOut(dir, ["tag", "--points-at", commit, "--sort=refname", "--no-column"]).catch(() => "");
  return out.split("\n").filter(Boolean)[0];
}

/** Where po keeps its mirror of harness `h` in the state folder (.ao-state): made when a ref is first resolved. */
export function mirrorOf(stateDir: string, h: HarnessSpec): string {
  const key = createHash("sha256").update(absoluteUrl(h.url)).digest("hex").slice(0, 12);
  return join(stateDir, "harnesses", `${h.name}-${key}.git`);
}

/**
 * `stateDir`: the .ao-state folder that holds the mirrors; without it (po create, on a fresh
 * submodule) refs are resolved offline in the given checkout only.
 */
export function resolver(offline: boolean, stateDir?: string): Resolver {
  const tags = new Map<string, Promise<Map<string, string[]>>>();
  const mirrorDir = (h: HarnessSpec) => stateDir && mirrorOf(stateDir, h);

  async function batch(h: HarnessSpec, refs: string[]): Promise<Map<string, Resolution>> {
    const dir = mirrorDir(h);
    const url = absoluteUrl(h.url);
    const out = new Map<string, Resolution>();
    const unreachable = (e: unknown) => `cannot reach harness '${h.name}' at ${h.url}: ${gitMessage(e)}`;
    let failed: string | undefined;
    let fresh = false;
    // a mirror, or its folder, that is a link would have git write outside: refused, not "unreachable"
    if (dir && existsSync(dir)) privateDir(dir);
    if (dir && !offline && !existsSync(dir)) {
      privateDir(join(dir, "..")); // .ao-state 0700, and it ignores itself
      failed = await createMirror(url, dir).then(() => undefined, unreachable);
      fresh = !failed;
    }
    const safe = refs.filter((r) => SAFE_REF.test(r));
    const look = () => (dir && existsSync(dir) ? lookup(dir, safe) : Promise.resolve(undefined));
    let known = await look();
    const stale = (k: Known) => safe.some((r) => !k.commits.has(r) || k.branches.has(r));
    if (known && !offline && !fresh && stale(known)) {
      failed = await fetchMirror(url, dir!).then(() => undefined, unreachable);
      if (!failed) known = await look();
    }
    for (const r of refs) {
      const commit = known?.commits.get(r);
      const branch = known?.branches.has(r);
      if (!SAFE_REF.test(r)) out.set(r, { error: `'${r}' is not a ref name or commit id` });
      else if (failed && (!commit || branch)) out.set(r, { error: failed, unreachable: true });
      else if (commit) out.set(r, { commit, ...(branch ? { branch } : {}) });
      else {
        const what = `${HEX.test(r) ? "unknown commit" : "unknown ref"} '${r}' of harness '${h.name}' (${h.url})`;
        out.set(r, { error: `${what}${offline ? " (offline: only local refs were searched)" : ""}` });
      }
    }
    return out;
  }

  // harness (name and url) → ref → its resolution, shared by every project that wants it
  const prepared = new Map<string, Map<string, Promise<Map<string, Resolution>>>>();
  const preparedOf = (h: HarnessSpec) => {
    const key = `${h.name}\0${h.url}`;
    if (!prepared.has(key)) prepared.set(key, new Map());
    return prepared.get(key)!;
  };
  const local = new Map<string, Promise<string | undefined>>();

  return {
    prepare(h, refs) {
      const p = batch(h, [...new Set(refs)]);
      p.catch(() => {}); // awaited by resolve, which reports it; never an unhandled rejection
      for (const r of refs) preparedOf(h).set(r, p);
    },
    async resolve(h, ref, submodule) {
      const mine = preparedOf(h);
      if (!mine.has(ref)) mine.set(ref, batch(h, [ref]));
      const got = (await mine.get(ref)!).get(ref)!;
      // offline, or the harness unreachable: the project's own checkout may still know the ref
      if (got.commit || !submodule || !(offline || got.unreachable)) return got;
      const lkey = `${submodule}\0${ref}`;
      if (!local.has(lkey)) local.set(lkey, fromCheckout(submodule, ref, !offline));
      const commit = await local.get(lkey)!;
      return commit ? { commit } : { error: got.error };
    },
    async tagOf(h, commit, submodule) {
      const dir = mirrorDir(h);
      if (!dir || !existsSync(dir)) return submodule ? tagAt(submodule, commit) : undefined;
      if (!tags.has(dir))
        tags.set(
          dir,
          tagsOf(dir).catch(() => new Map()),
        );
      return (await tags.get(dir)!).get(commit)?.[0];
    },
  };
}
