// The plan as data (DESIGN.md's po-plan/1), its fingerprint of the observed world, and the
// staleness check of a saved plan.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { ACTION_ORDER, type Action, type ActualProject, type PlanError } from "../../reconcile/model.js";
import { UserError } from "../common/problems.js";

export const PLAN_FORMAT = "po-plan/1";

export interface SavedPlan {
  format: typeof PLAN_FORMAT;
  id: string;
  fingerprint: string;
  fleet: { path: string; sha256: string };
  created: string;
  /** the --target names, empty for the whole fleet */
  targets: string[];
  actions: Action[];
  errors: PlanError[];
  /** the observed actual state the plan was made from, by project */
  observed: Record<string, ActualProject>;
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export function observedRecord(projects: Iterable<ActualProject>): Record<string, ActualProject> {
  return Object.fromEntries([...projects].sort((a, b) => (a.name < b.name ? -1 : 1)).map((p) => [p.name, p]));
}

export function fingerprint(fleetSha: string, targets: string[], observed: Record<string, ActualProject>): string {
  return sha256(JSON.stringify({ fleet: fleetSha, targets: [...targets].sort(), observed }));
}

/**
 * The plan's id is a hash of everything else in it (its creation time included, so that two plans
 * of one world differ): an edited id, or an id copied onto other content, is detected as an edit.
 */
export function planId(plan: Omit<SavedPlan, "id">): string {
  const { format, fingerprint: fp, fleet, created, targets, actions, errors, observed } = plan;
  return sha256(JSON.stringify({ format, fp, fleet, created, targets, actions, errors, observed })).slice(0, 32);
}

export function newPlan(
  fleet: SavedPlan["fleet"],
  targets: string[],
  body: { actions: Action[]; errors: PlanError[] },
  observed: Record<string, ActualProject>,
): SavedPlan {
  const rest = {
    format: PLAN_FORMAT,
    fingerprint: fingerprint(fleet.sha256, targets, observed),
    fleet,
    created: new Date().toISOString(),
    targets,
    actions: body.actions,
    errors: body.errors,
    observed,
  } as const;
  return { ...rest, id: planId(rest) };
}

const isStrings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");

/** What makes parsed JSON not a usable po-plan/1, or undefined. */
function planProblem(plan: Partial<SavedPlan> | null): string | undefined {
  if (typeof plan !== "object" || plan === null) return "it is not a JSON object";
  if (plan.format !== PLAN_FORMAT) return `its format is ${JSON.stringify(plan.format ?? null)}, not ${PLAN_FORMAT}`;
  if (typeof plan.id !== "string" || !plan.id || typeof plan.fingerprint !== "string")
    return "its id or fingerprint is missing";
  if (typeof plan.fleet?.path !== "string" || typeof plan.fleet?.sha256 !== "string")
    return "its fleet.path or fleet.sha256 is missing";
  if (!isStrings(plan.targets)) return "its targets are not a list of names";
  if (
    !Array.isArray(plan.actions) ||
    !plan.actions.every((a) => typeof a?.project === "string" && ACTION_ORDER.includes(a?.kind))
  )
    return "its actions are not a list of actions";
  if (!Array.isArray(plan.errors) || typeof plan.observed !== "object" || plan.observed === null)
    return "its errors or observed state are missing";
  if (planId(plan as SavedPlan) !== plan.id) return "its id does not match its content (was the file edited?)";
  return undefined;
}

export function readPlanFile(file: string): SavedPlan {
  let plan: SavedPlan;
  try {
    plan = JSON.parse(readFileSync(file, "utf8")) as SavedPlan;
  } catch (e) {
    throw new UserError(
      `${file}: not a readable saved plan (${(e as Error).message.split("\n")[0]}); make one with po plan --out FILE`,
    );
  }
  const problem = planProblem(plan);
  if (problem)
    throw new UserError(
      `${file}: not a saved plan of format ${PLAN_FORMAT}: ${problem}; make one with po plan --out FILE`,
    );
  return plan;
}

const FIELDS: (keyof ActualProject)[] = [
  "exists",
  "isRepo",
  "repoBlocked",
  "pinned",
  "checkedOut",
  "resolved",
  "dirty",
  "agents",
  "live",
];

function show(v: unknown): string {
  if (v === undefined) return "none";
  if (typeof v === "string" && /^[0-9a-f]{40}$/.test(v)) return v.slice(0, 7);
  return Array.isArray(v) ? `[${v.join(", ")}]` : String(v);
}

/** What differs between two observations, for the operator: "alpha: live [] → [alpha-a]". */
export function observedChanges(before: Record<string, ActualProject>, after: Record<string, ActualProject>): string[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const out: string[] = [];
  for (const n of names) {
    const [a, b] = [before[n], after[n]];
    if (!a || !b) {
      out.push(`${n}: ${a ? "no longer observed" : "newly observed"}`);
      continue;
    }
    for (const f of FIELDS)
      if (JSON.stringify(a[f]) !== JSON.stringify(b[f])) out.push(`${n}: ${f} ${show(a[f])} → ${show(b[f])}`);
  }
  return out;
}
