// The plan as data (DESIGN.md's po-plan/1), its fingerprint of the observed world, and the
// staleness check of a saved plan.
import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Action, ActualProject, PlanError } from "../reconcile/model.js";
import { UserError } from "./problems.js";

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

export function newPlan(fleet: SavedPlan["fleet"], targets: string[], body: { actions: Action[]; errors: PlanError[] }, observed: Record<string, ActualProject>): SavedPlan {
  return {
    format: PLAN_FORMAT,
    id: randomUUID(),
    fingerprint: fingerprint(fleet.sha256, targets, observed),
    fleet,
    created: new Date().toISOString(),
    targets,
    actions: body.actions,
    errors: body.errors,
    observed,
  };
}

export function readPlanFile(file: string): SavedPlan {
  let plan: SavedPlan;
  try {
    plan = JSON.parse(readFileSync(file, "utf8")) as SavedPlan;
  } catch (e) {
    throw new UserError(`${file}: not a readable saved plan (${(e as Error).message}); make one with po plan --out FILE`);
  }
  if (plan?.format !== PLAN_FORMAT || typeof plan.id !== "string" || !Array.isArray(plan.actions))
    throw new UserError(`${file}: not a saved plan of format ${PLAN_FORMAT}; make one with po plan --out FILE`);
  return plan;
}

const FIELDS: (keyof ActualProject)[] = ["exists", "isRepo", "repoBlocked", "pinned", "checkedOut", "resolved", "dirty", "agents", "live"];

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
    for (const f of FIELDS) if (JSON.stringify(a[f]) !== JSON.stringify(b[f])) out.push(`${n}: ${f} ${show(a[f])} → ${show(b[f])}`);
  }
  return out;
}
