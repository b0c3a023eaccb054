// po outdated [NAME…]: per project, the release its pin names, the newest release of its harness
// and how many commits the pin is behind it. Tags are read once per harness; exit 2 when outdated.
import { join } from "node:path";
import type { DesiredProject } from "../../reconcile/model.js";
import { compareTags, newestTag } from "../../reconcile/semver.js";
import { parseVerb, COMMON_HELP } from "./args.js";
import { requireFleet } from "../registry/fleet.js";
import { tagReader, versionAt } from "../observe/releases.js";
import { mirrorOf, resolver, type Resolver } from "../observe/resolve-ref.js";
import { pinsEverywhere, type Pins as PinsNow } from "../remote/observe-hosts.js";
import { stateDir } from "../state/state.js";
import { gitRaw } from "../adapters/git.js";
import { printJson } from "./output.js";
import { targets } from "./select.js";

export const summary = "show which projects pin an older harness release than the newest";
const help = `Usage: po outdated [NAME…] [--pre] [--offline] [--json]

For each project (or the named ones): its harness, the ref fleet.toml wants, the release tag
naming the commit it pins, the newest release tag of the harness (semver order) and how many
commits the pin is behind it (counted in the project's submodule; "?" when it lacks that commit).
Each harness's tags are read once, with one git ls-remote of its url. The pins of projects on
other hosts are asked of each host's po over ssh, and counted in po's mirror of the harness.

Options:
  --pre          pre-releases (v1.2.0-rc.1) count as releases
  --offline      read the tags of the local checkouts (else of po's mirror of the harness, when
                 all its projects are on other hosts) instead of the harness urls
${COMMON_HELP}
Exit codes: 0 nothing is outdated, 1 error (a host that cannot be asked, too), 2 a project pins an
older release than the newest.`;

export interface OutdatedRow {
  project: string;
  /** the host it lives on; absent: this machine */
  host?: string;
  harness: string;
  ref: string;
  pinned: string | null;
  pinnedTag: string | null;
  newest: string | null;
  behind: number | null;
  outdated: boolean;
  /** why its pin is unknown (its host could not be asked) */
  error?: string;
}

/** Where each project's pin is known and its commits can be counted. */
interface Pins {
  /** what each project pins, read here or asked of its host's po */
  now: PinsNow;
  /** resolves a ref in po's mirror of a harness: where a remote project's distance is counted */
  refs: Resolver;
  state: string;
}

/** `from..to` counted in the repository at `dir`; null when it lacks either commit. */
async function behind(dir: string, from: string, to: string): Promise<number | null> {
  const out = await gitRaw(dir, ["rev-list", "--count", `${from}..${to}`]).catch(() => undefined);
  return out === undefined ? null : Number(out.trim());
}

/**
 * A project here counts in its own submodule; one on a host in po's mirror of its harness, made or
 * fetched as for a plan.
 */
async function countIn(p: DesiredProject, newest: string, pins: Pins): Promise<string> {
  if (!p.host) return join(p.location, p.harness.path);
  await pins.refs.resolve(p.harness, newest);
  return mirrorOf(pins.state, p.harness);
}

async function row(p: DesiredProject, tagsOf: ReturnType<typeof tagReader>, pre: boolean, pins: Pins) {
  const tags = await tagsOf(p.harness);
  const pinned = pins.now.pinned.get(p.name);
  const pinnedTag = versionAt(tags, pinned);
  const newest = newestTag(tags.keys(), pre);
  const newestCommit = newest ? tags.get(newest) : undefined;
  const count =
    pinned && newest && newestCommit ? await behind(await countIn(p, newest, pins), pinned, newestCommit) : null;
  // Outdated: the pin is not the newest release and not above it (a pin past the newest tag is not behind).
  const above = pinnedTag && newest ? (compareTags(pinnedTag, newest) ?? 0) >= 0 : false;
  const outdated = Boolean(newestCommit && pinned !== newestCommit && !above && count !== 0);
  const error = pins.now.errors.find((e) => e.project === p.name)?.message;
  const base = { project: p.name, ...(p.host ? { host: p.host } : {}), harness: p.harness.name, ref: p.ref };
  const found = { pinned: pinned ?? null, pinnedTag: pinnedTag ?? null, newest: newest ?? null, behind: count };
  return { ...base, ...found, outdated, ...(error ? { error } : {}) } satisfies OutdatedRow;
}

function table(rows: OutdatedRow[]): string {
  const head = ["PROJECT", "HARNESS", "REF", "PINNED", "NEWEST", "BEHIND", ""];
  const cells = rows.map((r) => [
    r.host ? `${r.project}@${r.host}` : r.project,
    r.harness,
    r.ref,
    r.pinnedTag ?? r.pinned?.slice(0, 7) ?? "none",
    r.newest ?? "-",
    r.behind === null ? "?" : String(r.behind),
    r.error ? "error" : r.outdated ? "outdated" : "",
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
  const offline = Boolean(args.values.offline);
  const state = stateDir(fleet.path);
  const tagsOf = tagReader(offline, fleet.projects, state);
  const pins = { now: await pinsEverywhere(fleet, projects, offline), refs: resolver(offline, state), state };
  const rows = await Promise.all(projects.map((p) => row(p, tagsOf, Boolean(args.values.pre), pins)));
  const n = rows.filter((r) => r.outdated).length;
  const errors = rows.filter((r) => r.error);
  if (args.values.json) printJson({ projects: rows, outdated: n });
  else {
    process.stdout.write(
      `${table(rows)}\n` +
        `${n ? `${n} of ${rows.length} project(s) pin an older release than the newest.` : "Nothing is outdated."}\n`,
    );
    for (const r of errors) process.stderr.write(`po: ${r.project}: ${r.error}\n`);
  }
  return errors.length ? 1 : n ? 2 : 0;
}
