// po plan: what apply would change, and nothing else. Reads only.
import { closeSync, constants, existsSync, openSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { UserError } from "../common/problems.js";
import { parseVerb, selection, wholeNumber, COMMON_HELP, SELECT_HELP, SELECT_OPTIONS } from "./args.js";
import { HOSTS_PARALLELISM } from "../remote/observe-hosts.js";
import { makePlan } from "./make-plan.js";
import { printJson, useColor } from "./output.js";
import { planText } from "./render.js";

export const summary = "show what apply would change (reads only)";
const help = `Usage: po plan [NAME…] [--exclude NAME]… [--out FILE] [--detailed-exitcode] [--offline] [--json]

Compares fleet.toml with the actual state of every project (harness pin in the repository, the
submodule checkout, live tmux sessions) and prints the actions that would converge them:
  + clone / init / start    ~ pin (", restart" when the agents are stopped and started around it)
  - stop                    ! error (that project is left alone; the others still plan)
Nothing is changed: no repository, checkout or session of any project moves.

Options:
${SELECT_HELP}
  --out FILE           save the plan for po apply FILE (refused later if the world changed)
  --detailed-exitcode  exit 0 when there is nothing to do, 1 on error, 2 when changes are pending
  --hosts-parallelism N  other hosts observed at once (default 8)
  --offline            resolve refs from local repositories only (the harness mirrors are not fetched)
${COMMON_HELP}`;

function savePlan(file: string, text: string): void {
  const folder = dirname(resolve(file));
  if (!existsSync(folder) || !statSync(folder).isDirectory())
    throw new UserError(`plan: cannot save the plan to ${file}: the folder ${folder} does not exist; create it first`);
  // never through a link: it could lead to any file of the operator's
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ELOOP")
      throw new UserError(`plan: cannot save the plan to ${file}: it is a symbolic link; name the file itself`);
    if (code === "EISDIR") throw new UserError(`plan: cannot save the plan to ${file}: it is a folder; name a file`);
    throw e;
  }
  try {
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb(
    "plan",
    argv,
    {
      ...SELECT_OPTIONS,
      out: { type: "string" },
      "detailed-exitcode": { type: "boolean" },
      offline: { type: "boolean" },
      "hosts-parallelism": { type: "string" },
    },
    help,
  );
  if (!args) return 0;
  const { plan, fleet } = await makePlan({
    fleetFile: args.values.fleet,
    ...selection(args.values, args.positionals),
    offline: Boolean(args.values.offline),
    hostsParallelism: wholeNumber("plan", "hosts-parallelism", args.values["hosts-parallelism"], HOSTS_PARALLELISM),
  });
  if (args.values.out) savePlan(String(args.values.out), JSON.stringify(plan, null, 2) + "\n");
  if (args.values.json) printJson(plan);
  else {
    process.stdout.write(planText(plan, fleet.projects, useColor()));
    if (args.values.out)
      process.stdout.write(
        `Saved the plan to ${String(args.values.out)}; apply it with po apply ${String(args.values.out)}\n`,
      );
  }
  if (plan.errors.length) return 1;
  return args.values["detailed-exitcode"] && plan.actions.length ? 2 : 0;
}
