// po status: desired against actual for every project, and the outcome of the last apply.
import type { ActualProject, DesiredProject } from "../../reconcile/model.js";
import { planProject } from "../../reconcile/plan.js";
import { parseVerb, selection, wholeNumber, COMMON_HELP, SELECT_HELP, SELECT_OPTIONS } from "./args.js";
import { HOSTS_PARALLELISM, type FleetObservation } from "../remote/observe-hosts.js";
import { makePlan } from "./make-plan.js";
import { columns, paint, printJson, useColor } from "./output.js";
import { lockHolder, readJournal } from "../state/state.js";
import { agentStates, agentTrouble, type AgentState } from "../observe/agent-state.js";

export const summary = "desired against actual state of every project";
const help = `Usage: po status [NAME…] [--exclude NAME]… [--detailed-exitcode] [--offline] [--no-harness] [--json]

Per project: enabled, harness@ref, the pinned commit (with the tag that names it), sessions
live/expected, and in sync, drift (what would change), missing, or error, then the names of its
tmux sessions; a project that left fleet.toml while its agents still run shows as removed. Per
agent: live or dead (its pane's process), silent for how long, and what the harness's status argv
says (state, since when, restarts). Then the outcome of the last apply. Reads only, and runs
nothing but the harnesses' declared status argv; for a project on another host, that host's po
reports its agents and runs the status argv there, where the project is.

Options:
${SELECT_HELP}
  --detailed-exitcode  exit 2 when any project drifts, is missing, has an error or was removed,
                       or an agent of an enabled project is dead or failed
  --offline            resolve refs from local repositories only
  --no-harness         do not run the harnesses' status argv: what tmux knows only
  --hosts-parallelism N  other hosts observed at once (default 8)
${COMMON_HELP}`;

interface Row {
  name: string;
  host?: string;
  enabled: boolean;
  harness: string;
  ref: string;
  pinned?: string;
  pinnedTag?: string;
  sessions: { live: number; expected: number; names: string[] };
  state: "in sync" | "drift" | "missing" | "error" | "removed";
  detail: string;
  agents?: AgentState[];
  notes?: string[];
}

async function row(p: DesiredProject, a: ActualProject, obs: FleetObservation): Promise<Row> {
  const body = planProject(p, a);
  const base = {
    name: p.name,
    ...(p.host ? { host: p.host } : {}),
    enabled: p.enabled,
    harness: p.harness.name,
    ref: p.ref,
    sessions: { live: a.live.length, expected: a.sessions.length, names: a.sessions },
  };
  const pinnedTag = await obs.pinnedTag(p);
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

/** A project whose host could not be asked: what it should be, and why its state is unknown. */
function unobservedRow(p: DesiredProject, why: string): Row {
  const base = { name: p.name, enabled: p.enabled, harness: p.harness.name, ref: p.ref };
  return {
    ...base,
    ...(p.host ? { host: p.host } : {}),
    sessions: { live: 0, expected: 0, names: [] },
    state: "error",
    detail: why,
  };
}

/** A project that left fleet.toml but still has live sessions: the next apply stops them. */
function removedRow(a: ActualProject, harness: string): Row {
  const live = { live: a.live.length, expected: a.sessions.length, names: a.live };
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
  // Lines without a plan (fleet.toml edits, creates) are not part of any apply.
  const last = lines.filter((l) => l.plan).at(-1);
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
  return (
    `Last apply (plan ${a.plan.slice(0, 8)}, ${a.time}) ${how}: ${a.ok} ok, ${a.failed} ` +
    `failed, ${a.skipped} skipped${unfinished}.`
  );
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
    {
      ...SELECT_OPTIONS,
      "detailed-exitcode": { type: "boolean" },
      offline: { type: "boolean" },
      "no-harness": { type: "boolean" },
      "hosts-parallelism": { type: "string" },
    },
    help,
  );
  if (!args) return 0;
  const harness = !args.values["no-harness"];
  const { fleet, observation, state, removed } = await makePlan({
    fleetFile: args.values.fleet,
    ...selection(args.values, args.positionals),
    offline: Boolean(args.values.offline),
    hostsParallelism: wholeNumber("status", "hosts-parallelism", args.values["hosts-parallelism"], HOSTS_PARALLELISM),
    agents: { harness },
  });
  const chosen = fleet.projects.filter((p) => observation.actual.has(p.name));
  const rows = await Promise.all(chosen.map((p) => row(p, observation.actual.get(p.name)!, observation)));
  // a remote project's agents came with its observation: nothing fleet.toml names runs here for it
  const pairs = chosen.filter((p) => !p.host).map((p) => ({ desired: p, actual: observation.actual.get(p.name)! }));
  const states = await agentStates(pairs, observation.sessions, { harness });
  for (const r of rows) Object.assign(r, states.get(r.name) ?? observation.agents.get(r.name));
  for (const e of observation.errors) {
    const p = fleet.projects.find((x) => x.name === e.project);
    if (p) rows.push(unobservedRow(p, e.message));
  }
  for (const [name, a] of observation.removed)
    if (a.live.length) rows.push(removedRow(a, removed.find((e) => e.name === name)?.harness.name ?? "?"));
  const trouble = rows.some((r) => r.state !== "in sync" || agentTrouble(r.enabled, r.agents ?? []));
  const code = args.values["detailed-exitcode"] && trouble ? 2 : 0;
  const apply = lastApply(state);
  if (args.values.json) {
    printJson({ projects: rows, lastApply: apply ?? null });
    return code;
  }
  const color = useColor();
  const table = rows.map((r) => [
    r.host ? `${r.name}@${r.host}` : r.name,
    r.enabled ? "enabled" : "disabled",
    `${r.harness}@${r.ref}`,
    r.pinned ? `${r.pinned.slice(0, 7)}${r.pinnedTag ? ` (${r.pinnedTag})` : ""}` : "-",
    `${r.sessions.live}/${r.sessions.expected}`,
    `${paint(r.state, STATE_COLOR[r.state], color)}${r.detail ? ` (${r.detail})` : ""}`,
    r.sessions.names.join(",") || "-",
  ]);
  process.stdout.write(
    rows.length
      ? columns([["PROJECT", "ENABLED", "HARNESS", "PINNED", "SESSIONS", "STATE", "TMUX"], ...table]) + "\n"
      : `No projects in ${fleet.path}.\n`,
  );
  const agents = agentTable(rows);
  if (agents) process.stdout.write(`\n${agents}\n`);
  for (const r of rows) for (const n of r.notes ?? []) process.stderr.write(`po: note: ${r.name}: ${n}\n`);
  if (apply) process.stdout.write(`\n${describeApply(apply)}\n`);
  return code;
}
/** "42s", "5m", "3h", "2d": how long an agent has been silent. */
function ago(s: number | undefined): string {
  if (s === undefined) return "-";
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  return s < 86400 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86400)}d`;
}

function agentTable(rows: Row[]): string | undefined {
  const lines = rows.flatMap((r) =>
    (r.agents ?? []).map((a) => [
      r.name,
      a.agent,
      a.live ? "live" : "dead",
      `${a.state ?? "-"}${a.detail ? ` (${a.detail})` : ""}`,
      a.since ?? "-",
      ago(a.silent_s),
      a.restarts === undefined ? "-" : String(a.restarts),
    ]),
  );
  if (!lines.length) return undefined;
  return columns([["PROJECT", "AGENT", "LIVE", "STATE", "SINCE", "SILENT", "RESTARTS"], ...lines]);
}
