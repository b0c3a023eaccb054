// po show: a saved plan as po plan printed it, with a warning (not a refusal) when it is stale.
import { existsSync } from "node:fs";
import { parseVerb, COMMON_HELP } from "./args.js";
import { makePlan } from "./make-plan.js";
import { printJson, useColor } from "./output.js";
import { planText } from "./render.js";
import { UserError } from "../common/problems.js";
import { observedChanges, readPlanFile, type SavedPlan } from "../state/plan-file.js";
import { appliedPlans } from "../state/state.js";
import type { DesiredProject } from "../../reconcile/model.js";

export const summary = "print a saved plan (po plan --out), warning when it is stale";
const help = `Usage: po show PLANFILE [--offline] [--json]

Prints the saved plan PLANFILE as po plan printed it: its id, when it was made, its targets and
its actions. The world is observed again to tell whether po apply PLANFILE would still take it: a
plan that is stale (fleet.toml or the projects changed since) or already applied gets a warning
on stderr; it is still printed.

Options:
  --offline      resolve refs from local repositories only
${COMMON_HELP}`;

/** Why po apply would refuse the saved plan now (or undefined), and the fleet's projects. */
async function staleness(saved: SavedPlan, offline: boolean): Promise<[string | undefined, DesiredProject[]]> {
  if (!existsSync(saved.fleet.path)) return [`its fleet ${saved.fleet.path} no longer exists`, []];
  const fresh = await makePlan({ fleetFile: saved.fleet.path, targets: saved.targets, offline });
  const why = appliedPlans(fresh.state).has(saved.id)
    ? "it was already applied"
    : saved.fleet.sha256 !== fresh.plan.fleet.sha256
      ? `${saved.fleet.path} changed since it was made`
      : saved.fingerprint !== fresh.plan.fingerprint
        ? observedChanges(saved.observed, fresh.plan.observed).slice(0, 5).join("; ") || "the world changed"
        : undefined;
  return [why, fresh.fleet.projects];
}

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb("show", argv, { offline: { type: "boolean" } }, help, 1);
  if (!args) return 0;
  const [file] = args.positionals;
  if (file === undefined) throw new UserError("show: name the saved plan file; see po show --help");
  const saved = readPlanFile(file);
  const [stale, projects] = await staleness(saved, Boolean(args.values.offline));
  if (args.values.json) printJson({ plan: saved, stale: stale ?? null });
  else {
    const targets = saved.targets.length ? saved.targets.join(", ") : "the whole fleet";
    process.stdout.write(`Plan ${saved.id} of ${saved.fleet.path}, made ${saved.created}, for ${targets}:\n\n`);
    process.stdout.write(planText(saved, projects, useColor()));
  }
  if (stale)
    process.stderr.write(`po: warning: plan ${file} is stale: ${stale}; po apply would refuse it (po plan again)\n`);
  return 0;
}
