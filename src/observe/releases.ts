// The release tags of each harness, read once per harness and run: one `git ls-remote --tags` of
// its url, or with --offline the tags of a local checkout or of po's mirror. Beside them, what a
// project pins now.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { DesiredProject, HarnessSpec } from "../../reconcile/model.js";
import { newestTag } from "../../reconcile/semver.js";
import { gitMessage, gitRaw } from "../adapters/git.js";
import { UserError } from "../common/problems.js";
import { mirrorOf } from "./resolve-ref.js";

/** Tag name to the commit it names (annotated tags peeled). */
export type Tags = Map<string, string>;

function parseRefs(out: string, prefix: string): Tags {
  const tags: Tags = new Map();
  for (const line of out.split("\n").filter(Boolean)) {
    const [sha, name] = line.split(/\s+/);
    if (!name?.startsWith(prefix)) continue;
    // The peeled line (^{}) of an annotated tag names the commit and comes after the tag itself.
    tags.set(name.slice(prefix.length).replace(/\^\{\}$/, ""), sha);
  }
  return tags;
}

async function remoteTags(h: HarnessSpec): Promise<Tags> {
  const out = await gitRaw(process.cwd(), ["ls-remote", "--tags", "--end-of-options", h.url], true).catch((e) => {
    throw new UserError(
      `cannot read the tags of harness '${h.name}' at ${h.url}: ${gitMessage(e)}; check the url, or pass --offline`,
    );
  });
  return parseRefs(out, "refs/tags/");
}

/** The tags of the first of `dirs` that git can read: the projects' checkouts here, then po's mirror. */
async function localTags(h: HarnessSpec, dirs: string[], mirror: string): Promise<Tags> {
  for (const dir of dirs) {
    const out = await gitRaw(dir, ["show-ref", "--tags", "--dereference"]).catch(() => undefined);
    if (out !== undefined) return parseRefs(out, "refs/tags/");
  }
  throw new UserError(
    `--offline: harness '${h.name}' has no checkout on this machine and po has no mirror of it yet ` +
      `(${mirror}); run once without --offline`,
  );
}

/**
 * Reads each harness's tags at most once. --offline reads them from the local submodules, else
 * (every project of the harness on another host) from po's mirror in `stateDir` (.ao-state).
 */
export function tagReader(
  offline: boolean,
  projects: DesiredProject[],
  stateDir: string,
): (h: HarnessSpec) => Promise<Tags> {
  const cache = new Map<string, Promise<Tags>>();
  return (h) => {
    if (!cache.has(h.name)) {
      // a project on another host has its checkout there
      const here = projects.filter((p) => p.harness.name === h.name && !p.host);
      const mirror = mirrorOf(stateDir, h);
      const dirs = [...here.map((p) => join(p.location, p.harness.path)), ...(existsSync(mirror) ? [mirror] : [])];
      cache.set(h.name, offline ? localTags(h, dirs, mirror) : remoteTags(h));
    }
    return cache.get(h.name)!;
  };
}

/** The highest release tag (pre-releases too) naming `commit`, if any. */
export function versionAt(tags: Tags, commit: string | undefined): string | undefined {
  if (!commit) return undefined;
  return newestTag(
    [...tags].filter(([, c]) => c === commit).map(([t]) => t),
    true,
  );
}

/** The commit project `p` pins in HEAD (its gitlink), if any. */
export async function pinnedCommit(p: DesiredProject): Promise<string | undefined> {
  const out = await gitRaw(p.location, ["ls-tree", "HEAD", "--", p.harness.path]).catch(() => "");
  return /\b160000 commit ([0-9a-f]{40})\t/.exec(out)?.[1];
}
