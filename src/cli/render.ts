// The plan for a human: one line per change, like a mature plan/apply tool.
import type { Action, DesiredProject, PlanBody } from "../../reconcile/model.js";
import { summarize } from "../../reconcile/plan.js";
import { paint } from "./output.js";

const SIGN = { clone: "+", init: "+", start: "+", stop: "-", pin: "~" } as const;
const COLOR = { "+": "green", "-": "red", "~": "yellow" } as const;

function short(sha: string | undefined): string {
  return sha ? sha.slice(0, 7) : "none";
}

function describe(a: Action, harness: string, restart: boolean): string {
  switch (a.kind) {
    case "pin":
      return (
        `pin ${harness} ${a.fromRef ?? short(a.from)} → ${a.ref} (${short(a.from)} → ` +
        `${short(a.to)})${restart ? ", restart" : ""}`
      );
    default:
      return `${a.kind} (${a.reason})`;
  }
}

/** Plan lines; the stop/start around a pin fold into the pin line as ", restart". */
function renderPlan(plan: PlanBody, harnessOf: (project: string) => string, color: boolean): string {
  // a project on another host reads NAME@HOST
  const at = new Map(plan.actions.filter((a) => a.host).map((a) => [a.project, `${a.project}@${a.host}`]));
  const label = (project: string) => at.get(project) ?? project;
  const width = Math.max(0, ...[...plan.actions, ...plan.errors].map((x) => label(x.project).length));
  const lines: string[] = [];
  for (const a of plan.actions) {
    if (a.restart) continue;
    const restart = a.kind === "pin" && plan.actions.some((b) => b.project === a.project && b.restart);
    const sign = SIGN[a.kind];
    lines.push(
      `${label(a.project).padEnd(width)}  ${paint(sign, COLOR[sign], color)} ${describe(a, harnessOf(a.project), restart)}`,
    );
  }
  for (const e of plan.errors)
    lines.push(
      `${label(e.project).padEnd(width)}  ${paint("!", "red", color)} ${paint("error:", "red", color)} ${e.message}`,
    );
  return lines.join("\n");
}

export function summaryLine(plan: PlanBody): string {
  const n = summarize(plan);
  const parts = (["clone", "init", "pin", "start", "stop"] as const)
    .filter((k) => n[k] > 0)
    .map((k) => `${n[k]} to ${k}`);
  const errors = n.errors ? ` ${new Set(plan.errors.map((e) => e.project)).size} project(s) cannot be planned.` : "";
  if (!parts.length) return n.errors ? `No changes can be made.${errors}` : "No changes. The fleet is up to date.";
  return `Plan: ${parts.join(", ")}.${errors}`;
}

/** The plan as the operator reads it: one line per change, then the summary line. */
export function planText(plan: PlanBody, projects: DesiredProject[], color: boolean): string {
  const harnessOf = (name: string) => projects.find((p) => p.name === name)?.harness.name ?? "";
  const body = renderPlan(plan, harnessOf, color);
  return `${body ? `${body}\n\n` : ""}${summaryLine(plan)}\n`;
}
