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
      if (a.from === a.to)
        return `pin ${harness} ${a.ref} (${short(a.to)}): only the submodule's checkout differs; check it out${
          restart ? ", restart" : ""
        }`;
      return (
        `pin ${harness} ${a.fromRef ?? short(a.from)} → ${a.ref} (${short(a.from)} → ` +
        `${short(a.to)})${restart ? ", restart" : ""}`
      );
    case "clone":
      // What follows is planned on what the clone holds, and apply names each action it then runs.
      return `clone, then pin/start as found (${a.reason})`;
    case "stop":
      if (a.session !== undefined) return `stop orphan session ${a.session} (${a.reason})`;
      return `${a.kind} (${a.reason})`;
    default:
      return `${a.kind} (${a.reason})`;
  }
}

const restarted = (plan: PlanBody, project: string) => plan.actions.some((b) => b.project === project && b.restart);
const pinned = (plan: PlanBody, project: string) => plan.actions.some((b) => b.project === project && b.kind === "pin");

/**
 * Plan lines; the stop/start around a pin fold into the pin line as ", restart", and a restart
 * without a pin (po restart) is one "restart" line.
 */
function renderPlan(plan: PlanBody, harnessOf: (project: string) => string, color: boolean): string {
  // a project on another host reads NAME@HOST
  const at = new Map(plan.actions.filter((a) => a.host).map((a) => [a.project, `${a.project}@${a.host}`]));
  const label = (project: string) => at.get(project) ?? project;
  const width = Math.max(0, ...[...plan.actions, ...plan.errors].map((x) => label(x.project).length));
  const lines: string[] = [];
  const line = (a: Action, sign: "+" | "-" | "~", text: string) =>
    lines.push(`${label(a.project).padEnd(width)}  ${paint(sign, COLOR[sign], color)} ${text}`);
  for (const a of plan.actions) {
    if (a.restart && a.kind === "start" && !pinned(plan, a.project)) line(a, "~", `restart (${a.reason})`);
    if (a.restart) continue;
    line(a, SIGN[a.kind], describe(a, harnessOf(a.project), a.kind === "pin" && restarted(plan, a.project)));
  }
  for (const e of plan.errors)
    lines.push(
      `${label(e.project).padEnd(width)}  ${paint("!", "red", color)} ${paint("error:", "red", color)} ${e.message}`,
    );
  return lines.join("\n");
}

/** Counts as the lines show them: a stop and start around a pin or by po restart count once, as a restart. */
export function summaryLine(plan: PlanBody & { targets?: string[] }): string {
  const n = summarize({ ...plan, actions: plan.actions.filter((a) => !a.restart) });
  const restarts = new Set(plan.actions.filter((a) => a.restart).map((a) => a.project)).size;
  const parts = (["clone", "init", "pin", "restart", "start", "stop"] as const)
    .map((k) => [k, k === "restart" ? restarts : n[k]] as const)
    .filter(([, count]) => count > 0)
    .map(([k, count]) => `${count} to ${k}`);
  const errors = n.errors ? ` ${new Set(plan.errors.map((e) => e.project)).size} project(s) cannot be planned.` : "";
  const what = plan.targets?.length ? `The targets (${plan.targets.join(", ")}) are` : "The fleet is";
  if (!parts.length) return n.errors ? `No changes can be made.${errors}` : `No changes. ${what} up to date.`;
  return `Plan: ${parts.join(", ")}.${errors}`;
}

/** The plan as the operator reads it: one line per change, then the summary line. */
export function planText(plan: PlanBody & { targets?: string[] }, projects: DesiredProject[], color: boolean): string {
  const harnessOf = (name: string) => projects.find((p) => p.name === name)?.harness.name ?? "";
  const body = renderPlan(plan, harnessOf, color);
  return `${body ? `${body}\n\n` : ""}${summaryLine(plan)}\n`;
}
