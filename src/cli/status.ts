// po status: desired against actual for every project, and the outcome of the last apply.
import { join } from "node:path";
import type { ActualProject, DesiredProject } from "../../reconcile/model.js";
import { planProject } from "../../reconcile/plan.js";
import { many, parseVerb, COMMON_HELP } from "./args.js";
import type { Resolver } from "../observe/resolve-ref.js";
import { makePlan } from "./make-plan.js";
import { columns, paint, printJson, useColor } from "./output.js";
import { lockHolder, readJournal } from "../state/state.js";

export const summary = "desired against actual state of every project";
const help = `Usage: po status [--target NAME]… [--offline] [--json]

Per project: enabled, harness@ref, the pinned commit (with the tag that names it), sessions
live/expected, and in sync, drift (what would change), missing, or error; a project that left
fleet.toml while its agents still run shows as removed. Then the outcome of the last apply.
Reads only.

Options:
  --target NAME   only this project (repeatable)
  --offline       resolve refs from local repositories only
${COMMON_HELP}`;

interface Row {
  name: string;
  enabled: boolean;
  harness: string;
  ref: string;
  pinned?: string;
  pinnedTag?: string;
  sessions: { live: number; expected: number };
  state: "in sync" | "drift" | "missing" | "error" | "removed";
  detail: string;
}

function tagOf(refs: Resolver, p: DesiredProject, commit: string | undefined): Promise<string | undefined> {
  return commit ? refs.tagOf(p.harness, commit, join(p.location, p.harness.path)) : Promise.resolve(undefined);
}

async function row(p: DesiredProject, a: ActualProject, refs: Resolver): Promise<Row> {
  const body = planProject(p, a);
  const base = {
    name: p.name,
    enabled: p.enabled,
    harness: p.harness.name,
    ref: p.ref,
    sessions: { live: a.live.length, expected: a.sessions.length },
  };
  const pinnedTag = await tagOf(refs, p, a.pinned);
  const pin = { ...(a.pinned ? { pinned: a.pinned } : {}), ...(pinnedTag ? { pinnedTag } : {}) };
  if (!a.exists)
    return {
      ...base,
      ...pin,
      state: "missing",
      detail: p.url ? "not cloned yet (apply clones it)" : `${p.location} does not exist`,
    };
  if (body.errors.length)
    return { ...base, ...pin, state: "error", detail: body.errors.map((e) => e.message).join("; ") };
  if (!body.actions.length) return { ...base, ...pin, state: "in sync", detail: "" };
  return {
    ...base,
    ...pin,
    state: "drift",
    detail: body.actions
      .filter((x) => !x.restart || x.kind === "stop")
      .map((x) => (x.restart ? "restart" : x.kind))
      .join(", "),
  };
}

/** A project that left fleet.toml but still has live sessions: the next apply stops them. */
function removedRow(a: ActualProject, harness: string): Row {
  const live = { live: a.live.length, expected: a.sessions.length };
  return {
    name: a.name,
    enabled: false,
    harness,
    ref: "-",
    sessions: live,
    state: "removed",
    detail: `left fleet.toml; po apply stops its ${a.live.length} live session(s)`,
  };
}

interface LastApply {
  plan: string;
  time: string;
  /** converged, not converged, interrupted (Ctrl-C), killed (no end was journaled), or running */
  outcome: string;
  ok: number;
  failed: number;
  skipped: number;
  /** actions that started and never ended: the apply was killed while they ran */
  unfinished: number;
}

/** The outcome of the last apply, from the journal (an apply with a start and no end was killed). */
function lastApply(state: string): LastApply | undefined {
  const lines = readJournal(state);
  const last = lines.at(-1);
  if (!last) return undefined;
  const mine = lines.filter((l) => l.plan === last.plan);
  const ends = mine.filter((l) => l.event === "end");
  const count = (o: string) => ends.filter((l) => l.outcome === o).length;
  const started = new Set(mine.filter((l) => l.event === "start").map((l) => `${l.project}/${l.action}`));
  for (const l of ends) started.delete(`${l.project}/${l.action}`);
  const end = mine.find((l) => l.event === "apply-end");
  const holder = lockHolder(state);
  const outcome = end?.outcome ?? (holder ? "running" : "killed");
  return {
    plan: last.plan,
    time: (end ?? last).time,
    outcome,
    ok: count("ok"),
    failed: count("failed"),
    skipped: count("skipped"),
    unfinished: started.size,
  };
}

function describeApply(a: LastApply): string {
  const how =
    a.outcome === "killed"
      ? "did not finish (its process was killed)"
      : a.outcome === "running"
        ? "is still running"
        : a.outcome;
  const unfinished = a.unfinished > 0 ? `, ${a.unfinished} interrupted before finishing` : "";
  return `Last apply (plan ${a.plan.slice(0, 8)}, ${a.time}) ${how}: ${a.ok} ok, ${a.failed} failed, ${a.skipped} skipped${unfinished}.`;
}

const STATE_COLOR = {
  "in sync": "green",
  drift: "yellow",
  missing: "yellow",
  error: "red",
  removed: "yellow",
} as const;

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb(
    "status",
    argv,
    { target: { type: "string", multiple: true }, offline: { type: "boolean" } },
    help,
  );
  if (!args) return 0;
  const { fleet, observation, state, removed } = await makePlan({
    fleetFile: args.values.fleet,
    targets: many(args.values.target),
    offline: Boolean(args.values.offline),
  });
  const chosen = fleet.projects.filter((p) => observation.actual.has(p.name));
  const rows = await Promise.all(chosen.map((p) => row(p, observation.actual.get(p.name)!, observation.refs)));
  for (const [name, a] of observation.removed)
    if (a.live.length) rows.push(removedRow(a, removed.find((e) => e.name === name)?.harness.name ?? "?"));
  const apply = lastApply(state);
  if (args.values.json) {
    printJson({ projects: rows, lastApply: apply ?? null });
    return 0;
  }
  const color = useColor();
  const table = rows.map((r) => [
    r.name,
    r.enabled ? "enabled" : "disabled",
    `${r.harness}@${r.ref}`,
    r.pinned ? `${r.pinned.slice(0, 7)}${r.pinnedTag ? ` (${r.pinnedTag})` : ""}` : "-",
    `${r.sessions.live}/${r.sessions.expected}`,
    `${paint(r.state, STATE_COLOR[r.state], color)}${r.detail ? ` (${r.detail})` : ""}`,
  ]);
  process.stdout.write(
    rows.length
      ? columns([["PROJECT", "ENABLED", "HARNESS", "PINNED", "SESSIONS", "STATE"], ...table]) + "\n"
      : `No projects in ${fleet.path}.\n`,
  );
  if (apply) process.stdout.write(`\n${describeApply(apply)}\n`);
  return 0;
}
