// The ref po update writes for each project: the one given, the newest release (--latest) or the
// one before the last pin (--previous); checked to resolve, and not to be a downgrade of what the
// project pins now (asked of its host when it lives on another), before anything is written.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { DesiredFleet, DesiredProject } from "../../reconcile/model.js";
import { compareTags, newestTag, parseVersion } from "../../reconcile/semver.js";
import { resolver } from "../observe/resolve-ref.js";
import { tagReader, versionAt, type Tags } from "../observe/releases.js";
import { pinsEverywhere } from "../remote/observe-hosts.js";
import { lastPin } from "../state/previous.js";
import { UserError } from "../common/problems.js";
import { closest } from "../common/suggest.js";
import { refProblem } from "../registry/gitref.js";

export interface RefChoice {
  /** the ref named on the command line */
  ref?: string;
  latest: boolean;
  previous: boolean;
  pre: boolean;
  allowDowngrade: boolean;
  offline: boolean;
  /** .ao-state/ of the fleet, for --previous */
  state: string;
}

type TagsOf = (p: DesiredProject) => Promise<Tags>;

/** A commit as the operator knows it: its short id and the release tag naming it. */
function named(commit: string | undefined, tags: Tags): string {
  if (!commit) return "nothing";
  const tag = versionAt(tags, commit);
  return `${commit.slice(0, 7)}${tag ? ` (${tag})` : ""}`;
}

function wanted(p: DesiredProject, c: RefChoice, tags: Tags, pinned: string | undefined): string {
  if (c.previous) {
    const last = lastPin(c.state, p.name);
    if (!last) throw new UserError(`update --previous: the journal has no earlier pin of ${p.name}; name the ref`);
    // The journal knows what came before the pin it recorded; a pin moved since (by hand, by another
    // po) has a past it does not know, and returning to the recorded one would be a guess.
    if (last.to !== pinned)
      throw new UserError(
        `update --previous: ${p.name} pins ${named(pinned, tags)} now, not ${named(last.to, tags)} where its ` +
          `last pin in the journal left it; name the ref (fleet.toml was not changed)`,
      );
    return last.fromRef ?? last.from!;
  }
  if (!c.latest) return c.ref!;
  const newest = newestTag(tags.keys(), c.pre);
  if (!newest)
    throw new UserError(
      `update --latest: harness '${p.harness.name}' has no release tag (vMAJOR.MINOR.PATCH)` +
        `${c.pre ? "" : " that is not a pre-release (--pre takes those too)"}`,
    );
  return newest;
}

/** Each project's new ref, or one line saying why none is written. */
export async function refsFor(
  fleet: DesiredFleet,
  projects: DesiredProject[],
  c: RefChoice,
): Promise<Map<string, string>> {
  const read = tagReader(c.offline, projects, c.state);
  const resolve = resolver(c.offline, c.state);
  // Tags are needed for --latest, the downgrade check and a suggestion; an unreachable remote is
  // reported by the resolver, so here it only means no tags.
  const tagsOf: TagsOf = (p) => read(p.harness).catch(() => new Map<string, string>());
  // The downgrade check and --previous need each project's pin now, read where the project lives.
  const pins = c.allowDowngrade && !c.previous ? undefined : await pinsEverywhere(fleet, projects, c.offline);
  const unreachable = [...new Set(pins?.errors.map((e) => e.message))];
  if (unreachable.length) throw new UserError(`update: ${unreachable.join("; ")}; fleet.toml was not changed`);
  const refs = new Map<string, string>();
  const downgrades: { name: string; from: string }[] = [];
  for (const p of projects) {
    const tags = await tagsOf(p);
    const pinned = pins?.pinned.get(p.name);
    const ref = wanted(p, c, tags, pinned);
    const bad = refProblem(ref);
    if (bad) throw new UserError(`update: invalid ref '${ref}': ${bad} (this edit was not written)`);
    const sub = join(p.location, p.harness.path);
    // a remote project's checkout is on its host: a folder of that name here is something else
    const { commit, error } = await resolve.resolve(p.harness, ref, !p.host && existsSync(sub) ? sub : undefined);
    if (!commit) {
      const near = closest(ref, tags.keys());
      throw new UserError(`update: ${error}${near ? ` (did you mean ${near}?)` : ""}; fleet.toml was not changed`);
    }
    refs.set(p.name, ref);
    if (c.allowDowngrade || c.previous) continue;
    const from = versionAt(tags, pinned);
    const to = parseVersion(ref) ? ref : versionAt(tags, commit);
    if (from && to && (compareTags(to, from) ?? 0) < 0) downgrades.push({ name: p.name, from });
  }
  if (downgrades.length) {
    const from = [...new Set(downgrades.map((d) => d.from))].join(", ");
    const names = downgrades.map((d) => d.name).join(", ");
    const to = refs.get(downgrades[0].name);
    throw new UserError(
      `update: ${to} is a downgrade from ${from}, which ${names} ${downgrades.length > 1 ? "pin" : "pins"} now; ` +
        `pass --allow-downgrade to move down anyway (fleet.toml was not changed)`,
    );
  }
  return refs;
}
