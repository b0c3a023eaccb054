// po restart: stop and start the agents of the named projects, through the apply machinery (lock,
// confirmation, journal), without editing fleet.toml.
import { restarts } from "../../reconcile/restart.js";
import { parseVerb, wholeNumber, COMMON_HELP } from "./args.js";
import { applyWith } from "./apply.js";
import { HOSTS_PARALLELISM, markHosts } from "../remote/observe-hosts.js";
import type { Planned } from "./make-plan.js";
import { UserError } from "../common/problems.js";
import { newPlan, type SavedPlan } from "../state/plan-file.js";

export const summary = "stop and start the agents of projects (no fleet.toml edit)";
const help =
  "Usage: po restart NAME… | --all [--yes] [--dry-run [--detailed-exitcode]] [--parallelism N] " +
  `[--lock-timeout S] [--json]

Stops and starts the agents of each named project (of every enabled project with --all) with its
harness down and up, like an apply: one at a time under the apply lock, journaled (po history
lists it), asking for confirmation on a terminal (without one, --yes is required). fleet.toml is
not edited. A project whose agents are not running is only started. A disabled project is
refused (po start NAME enables it), and so is one whose plan has changes pending other than
starting it: apply those first (po plan NAME shows them).

Options:
  --all              every enabled project
  --yes, -y          do not ask for confirmation
  --dry-run          show the restart's plan, run nothing
  --detailed-exitcode  with --dry-run: exit 2 when something would be restarted
  --parallelism N    projects restarted at once (default 4)
  --lock-timeout S   wait up to S seconds for another apply to finish (default 0)
${COMMON_HELP}
Exit codes: 0 restarted, 1 an action failed, 130 interrupted.`;

/** The restart actions of the chosen projects (every enabled one with --all), refusing those a restart cannot serve. */
function restartPlan(planned: Planned): SavedPlan {
  const { plan, observation, fleet } = planned;
  const all = !plan.targets.length;
  const chosen = fleet.projects.filter((p) => (all ? p.enabled : plan.targets.includes(p.name)));
  const done = restarts(chosen, observation.actual, plan);
  if (typeof done === "string") throw new UserError(`restart: ${done}`);
  // a project on another host is restarted there, by its host's po
  return newPlan(plan.fleet, plan.targets, { actions: markHosts(done, chosen), errors: [] }, plan.observed);
}

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb(
    "restart",
    argv,
    {
      all: { type: "boolean" },
      yes: { type: "boolean", short: "y" },
      "dry-run": { type: "boolean" },
      "detailed-exitcode": { type: "boolean" },
      parallelism: { type: "string" },
      "lock-timeout": { type: "string" },
    },
    help,
  );
  if (!args) return 0;
  const all = Boolean(args.values.all);
  if (all === args.positionals.length > 0)
    throw new UserError("restart: name the projects to restart, or pass --all; see po restart --help");
  return applyWith({
    verb: "restart",
    json: args.values.json,
    stream: false,
    yes: Boolean(args.values.yes),
    parallelism: wholeNumber("restart", "parallelism", args.values.parallelism, 4),
    hostsParallelism: HOSTS_PARALLELISM,
    offline: false,
    fleetFile: args.values.fleet,
    targets: [...new Set(args.positionals)],
    exclude: [],
    lockTimeoutMs: wholeNumber("restart", "lock-timeout", args.values["lock-timeout"], 0, 0) * 1000,
    rewrite: restartPlan,
    values: args.values,
    dryRun: Boolean(args.values["dry-run"]),
  });
}
