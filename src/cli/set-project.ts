// What po start, stop and update share: set one key of several projects in fleet.toml in one edit
// (the single record), show the diff and the plan, and only once the change is confirmed write
// the file and apply those projects in one apply. --dry-run shows both and changes nothing.
import { resolve } from "node:path";
import { parse } from "smol-toml";
import type { DesiredFleet, DesiredProject } from "../../reconcile/model.js";
import { parseVerb, COMMON_HELP } from "./args.js";
import { editFleet, setKey, type EditResult, type TomlValue } from "../registry/edit-fleet.js";
import { requireFleet } from "../registry/fleet.js";
import { applyAgreed } from "./apply.js";
import { makePlan } from "./make-plan.js";
import { printJson, useColor } from "./output.js";
import { planText } from "./render.js";
import { operatorAgrees, requireTerminal, writeJournaled } from "./edit-confirmed.js";
import { refuseRemoteGate, rolloutArgv, rolloutPolicy, ROLLOUT_HELP, ROLLOUT_OPTIONS } from "./rollout-options.js";
import { unknownProject } from "./select.js";
import { UserError } from "../common/problems.js";

type Options = Parameters<typeof parseVerb>[2];

export interface SetVerb {
  verb: string;
  usage: string;
  about: string;
  key: string;
  /** options of this verb alone, and their help lines */
  options?: Options;
  optionsHelp?: string;
  /** the positionals that are not project names (update's REF) */
  extra?(positionals: string[], values: Record<string, unknown>): { names: string[]; rest: string[] };
  /** the value to set in each project */
  values(
    projects: DesiredProject[],
    rest: string[],
    values: Record<string, unknown>,
    fleet: DesiredFleet,
  ): Promise<Map<string, TomlValue>>;
}

const SET_OPTIONS = {
  all: { type: "boolean" },
  yes: { type: "boolean", short: "y" },
  "no-apply": { type: "boolean" },
  "dry-run": { type: "boolean" },
  "detailed-exitcode": { type: "boolean" },
  parallelism: { type: "string" },
  offline: { type: "boolean" },
  ...ROLLOUT_OPTIONS,
} as const;

export function helpOf(v: SetVerb): string {
  return `Usage: po ${v.usage} [--yes] [--dry-run [--detailed-exitcode]] [--no-apply] [options]

${v.about}

Several projects change in one edit of fleet.toml, which keeps every comment and blank line, is
validated and shown as a diff with the plan it makes. The file is written only once the change is
confirmed (a terminal asks; without one, --yes is required), then those projects are applied in
one apply.

Options:
  --all                every project of fleet.toml
  --yes, -y            write and apply without asking
  --dry-run            show the diff and the plan; write nothing, run nothing
  --detailed-exitcode  with --dry-run: exit 2 when something would change, 0 when nothing would
  --no-apply           only edit fleet.toml
  --parallelism N      passed to apply
  --offline            resolve refs from local repositories only
${v.optionsHelp ?? ""}
${ROLLOUT_HELP}

${COMMON_HELP}`;
}

/** The projects named, or every one with --all (or of one harness with --harness). */
function pick(fleet: DesiredFleet, names: string[], values: Record<string, unknown>, verb: string): DesiredProject[] {
  const harness = values.harness as string | undefined;
  if ((values.all || harness) && names.length)
    throw new UserError(`${verb}: name projects or pass --all${harness ? "/--harness" : ""}, not both`);
  if (values.all) return fleet.projects;
  if (harness) {
    const of = fleet.projects.filter((p) => p.harness.name === harness);
    if (!of.length) throw new UserError(`${verb}: no project of ${fleet.path} uses harness '${harness}'`);
    return of;
  }
  if (!names.length) throw new UserError(`${verb} takes one or more project names, or --all; see po ${verb} --help`);
  return [...new Set(names)].map((n) => fleet.projects.find((p) => p.name === n) ?? throwUnknown(n, fleet));
}

function throwUnknown(name: string, fleet: DesiredFleet): never {
  throw unknownProject(name, fleet);
}

/** Each key that changes, with its old and new value, for the journal and --json. */
function changesOf(edit: EditResult, projects: DesiredProject[], key: string, values: Map<string, TomlValue>) {
  const old = (parse(edit.before) as { projects?: Record<string, Record<string, unknown>> }).projects ?? {};
  return projects
    .map((p) => ({ project: p.name, key, old: old[p.name]?.[key], new: values.get(p.name) }))
    .filter((c) => c.old !== c.new);
}

export async function runSet(v: SetVerb, argv: string[]): Promise<number> {
  const args = parseVerb(v.verb, argv, { ...SET_OPTIONS, ...v.options }, helpOf(v));
  if (!args) return 0;
  const o = args.values;
  const { fleet } = await requireFleet(o.fleet);
  const policy = rolloutPolicy(v.verb, o, fleet.rollout); // a bad rollout option is refused before anything is shown
  const { names, rest } = v.extra ? v.extra(args.positionals, o) : { names: args.positionals, rest: [] };
  const projects = pick(fleet, names, o, v.verb);
  const values = await v.values(projects, rest, o, fleet);
  // the apply that follows starts only the projects enabled once the edit is made
  const enabled = (p: DesiredProject) => (v.key === "enabled" ? values.get(p.name) === true : p.enabled);
  refuseRemoteGate(v.verb, policy, projects.filter(enabled));
  const file = resolve(o.fleet);
  const editAll = (s: string) =>
    projects.reduce((text, p) => setKey(text, ["projects", p.name], v.key, values.get(p.name)!), s);
  const preview = await editFleet(file, editAll, false);
  const changes = changesOf(preview, projects, v.key, values);
  const [dry, noApply, yes] = [Boolean(o["dry-run"]), Boolean(o["no-apply"]), Boolean(o.yes)];
  const ask = !dry && !noApply && !yes;
  if (ask) requireTerminal(v.verb, ["--dry-run to preview", "--no-apply to only edit"]);
  const targets = projects.map((p) => p.name);
  if (!o.json)
    process.stdout.write(
      preview.changed
        ? preview.diff
        : `fleet.toml already has ${v.key} = ${[...new Set(values.values())].join(", ")}\n`,
    );
  if (dry || ask) {
    const { plan } = await makePlan({ fleetFile: file, targets, offline: Boolean(o.offline), source: preview.after });
    if (o.json && dry) printJson({ dryRun: true, changes, diff: preview.diff, plan });
    else if (!o.json) process.stdout.write(`\n${planText(plan, fleet.projects, useColor())}`);
    // a project the plan cannot see (its host is down) is an error, as in po apply --dry-run
    if (dry) return plan.errors.length ? 1 : o["detailed-exitcode"] && (preview.changed || plan.actions.length) ? 2 : 0;
    if (!(await operatorAgrees())) return 1;
  }
  const edit = await writeJournaled(
    file,
    editAll,
    v.verb,
    (e) => changesOf(e, projects, v.key, values),
    `${file} was changed (nothing was applied)`,
  );
  if (o.json && noApply) printJson({ projects: targets, key: v.key, changes, changed: edit.changed, diff: edit.diff });
  if (noApply) return 0;
  if (!o.json) process.stdout.write("\n");
  // Confirmed at the terminal: the apply need not ask again, except after a canary wave.
  return applyAgreed([
    ...["--fleet", file, ...targets.flatMap((t) => ["--target", t])],
    ...(yes ? ["--yes"] : []),
    ...(o.json ? ["--json"] : []),
    ...(o.offline ? ["--offline"] : []),
    ...(o.parallelism ? ["--parallelism", String(o.parallelism)] : []),
    ...rolloutArgv(o),
  ]);
}

/** start and stop: no positional but the project names. */
export function fixed(value: TomlValue): SetVerb["values"] {
  return async (projects) => new Map(projects.map((p) => [p.name, value]));
}
