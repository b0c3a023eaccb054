// po outdated [NAME…]: per project, the release its pin names, the newest release of its harness
// and how many commits the pin is behind it. Tags are read once per harness; exit 2 when outdated.
import { join } from "node:path";
import type { DesiredProject } from "../../reconcile/model.js";
import { compareTags, newestTag } from "../../reconcile/semver.js";
import { parseVerb, COMMON_HELP } from "./args.js";
import { requireFleet } from "../registry/fleet.js";
import { pinnedCommit, tagReader, versionAt } from "../observe/releases.js";
import { gitRaw } from "../adapters/git.js";
import { printJson } from "./output.js";
import { targets } from "./select.js";

export const summary = "show which projects pin an older harness release than the newest";
const help = `Usage: po outdated [NAME…] [--pre] [--offline] [--json]

For each project (or the named ones): its harness, the ref fleet.toml wants, the release tag
naming the commit it pins, the newest release tag of the harness (semver order) and how many
commits the pin is behind it (counted in the project's submodule; "?" when it lacks that commit).
Each harness's tags are read once, with one git ls-remote of its url.

Options:
  --pre          pre-releases (v1.2.0-rc.1) count as releases
  --offline      read the tags of the local checkouts instead of the harness urls
${COMMON_HELP}
Exit codes: 0 nothing is outdated, 1 error, 2 a project pins an older release than the newest.`;

export interface OutdatedRow {
  project: string;
  harness: string;
  ref: string;
  pinned: string | null;
  pinnedTag: string | null;
  newest: string | null;
  behind: number | null;
  outdated: boolean;
}

async function behind(p: DesiredProject, from: string, to: string): Promise<number | null> {
  const out = await gitRaw(join(p.location, p.harness.path), ["rev-list", "--count", `${from}..${to}`]).catch(
    () => undefined,
  );
  return out === undefined ? null : Number(out.trim());
}

async function row(p: DesiredProject, tagsOf: ReturnType<typeof tagReader>, pre: boolean): Promise<OutdatedRow> {
  const tags = await tagsOf(p.harness);
  const pinned = await pinnedCommit(p);
  const pinnedTag = versionAt(tags, pinned);
  const newest = newestTag(tags.keys(), pre);
  const newestCommit = newest ? tags.get(newest) : undefined;
  const count = pinned && newestCommit ? await behind(p, pinned, newestCommit) : null;
  // Outdated: the pin is not the newest release and not above it (a pin past the newest tag is not behind).
  const above = pinnedTag && newest ? (compareTags(pinnedTag, newest) ?? 0) >= 0 : false;
  const outdated = Boolean(newestCommit && pinned !== newestCommit && !above && count !== 0);
  const base = { project: p.name, harness: p.harness.name, ref: p.ref, pinned: pinned ?? null };
  return { ...base, pinnedTag: pinnedTag ?? null, newest: newest ?? null, behind: count, outdated };
}

function table(rows: OutdatedRow[]): string {
  const head = ["PROJECT", "HARNESS", "REF", "PINNED", "NEWEST", "BEHIND", ""];
  const cells = rows.map((r) => [
    r.project,
    r.harness,
    r.ref,
    r.pinnedTag ?? r.pinned?.slice(0, 7) ?? "none",
    r.newest ?? "-",
    r.behind === null ? "?" : String(r.behind),
    r.outdated ? "outdated" : "",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  return (
    [head, ...cells]
      .map((c) =>
        c
          .map((x, i) => x.padEnd(widths[i]))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb("outdated", argv, { pre: { type: "boolean" }, offline: { type: "boolean" } }, help);
  if (!args) return 0;
  const { fleet } = await requireFleet(args.values.fleet);
  const chosen = targets(fleet, args.positionals);
  const projects = fleet.projects.filter((p) => chosen.has(p.name));
  const tagsOf = tagReader(Boolean(args.values.offline), fleet.projects);
  const rows = await Promise.all(projects.map((p) => row(p, tagsOf, Boolean(args.values.pre))));
  const n = rows.filter((r) => r.outdated).length;
  if (args.values.json) printJson({ projects: rows, outdated: n });
  else
    process.stdout.write(
      `${table(rows)}\n` +
        `${n ? `${n} of ${rows.length} project(s) pin an older release than the newest.` : "Nothing is outdated."}\n`,
    );
  return n ? 2 : 0;
}
