// Resolves a project's desired harness ref to a commit. Tags and commit ids are immutable, so the
// submodule's own repository answers them; branches move, so they are asked of the harness URL
// (one ls-remote per harness and run, shared by every project) unless --offline.
import { Repo, tryFast } from "./git-files.js";
import { gitMessage, gitRaw } from "../adapters/git.js";
import type { HarnessSpec } from "../../reconcile/model.js";

const FULL_SHA = /^[0-9a-f]{40}$/;

export interface Resolver {
  /** `repo`: the submodule as the fast path already opened it, if it could. */
  resolve(
    harness: HarnessSpec,
    ref: string,
    submodule: string | undefined,
    repo?: Repo,
  ): Promise<{ commit?: string; error?: string }>;
}

/** refs/heads/* and refs/tags/* of a remote, annotated tags peeled. */
export async function lsRemote(url: string): Promise<Map<string, string>> {
  const out = await gitRaw(process.cwd(), ["ls-remote", "--heads", "--tags", url], true);
  const refs = new Map<string, string>();
  for (const line of out.split("\n").filter(Boolean)) {
    const [sha, name] = line.split("\t");
    // The peeled line (^{}) of an annotated tag names the commit and comes after the tag itself.
    refs.set(name.replace(/\^\{\}$/, ""), sha);
  }
  return refs;
}

/** `git rev-parse --verify REV^{commit}` in `dir`; a full ref name is read from the files when it can be. */
async function revParse(dir: string, rev: string, repo?: Repo): Promise<string | undefined> {
  if (rev.startsWith("refs/")) {
    const f = tryFast(`${rev} in ${dir}`, () => (repo ?? Repo.open(dir)).refCommit(rev));
    if (f?.ok) return f.value;
  }
  const out = await gitRaw(dir, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`]).catch(
    () => "",
  );
  return out.trim() || undefined;
}

/** The first tag (by name) that points at `commit` in the repository at `dir`, if any. */
export async function tagAt(dir: string, commit: string): Promise<string | undefined> {
  const f = tryFast(`the tags at ${commit} in ${dir}`, () => Repo.open(dir).tagsAt(commit));
  if (f?.ok) return f.value[0];
  // --sort and --no-column: the fast path's order, whatever tag.sort or column.ui say
  const out = await gitRaw(dir, ["tag", "--points-at", commit, "--sort=refname", "--no-column"]).catch(() => "");
  return out.split("\n").filter(Boolean)[0];
}

export function resolver(offline: boolean): Resolver {
  const remotes = new Map<string, Promise<Map<string, string>>>();
  const remote = (url: string) => {
    if (!remotes.has(url)) remotes.set(url, lsRemote(url));
    return remotes.get(url)!;
  };
  return {
    async resolve(harness, ref, submodule, repo) {
      if (FULL_SHA.test(ref)) return { commit: ref };
      const local = submodule ? await revParse(submodule, `refs/tags/${ref}`, repo) : undefined;
      if (local) return { commit: local };
      if (!offline) {
        const refs = await remote(harness.url).catch((e: Error) => e);
        if (refs instanceof Error)
          return { error: `cannot reach harness '${harness.name}' at ${harness.url}: ${gitMessage(refs)}` };
        const hit = refs.get(`refs/heads/${ref}`) ?? refs.get(`refs/tags/${ref}`);
        if (hit) return { commit: hit };
      }
      const fallback = submodule
        ? ((await revParse(submodule, `refs/remotes/origin/${ref}`, repo)) ?? (await revParse(submodule, ref)))
        : undefined;
      if (fallback) return { commit: fallback };
      return {
        error:
          `unknown ref '${ref}' of harness '${harness.name}' ` +
          `(${harness.url})${offline ? " (offline: only local refs were searched)" : ""}`,
      };
    },
  };
}
