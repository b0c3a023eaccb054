// po forget NAME…: stop managing projects without stopping their agents or touching their files.
import { resolve } from "node:path";
import { UserError } from "../common/problems.js";
import { removeTable } from "../registry/edit-fleet.js";
import { requireFleet } from "../registry/fleet.js";
import { readInventory, replaceInventory, stateDir } from "../state/state.js";
import { parseVerb, COMMON_HELP } from "./args.js";
import { EDIT_HELP, EDIT_OPTIONS, editConfirmed } from "./edit-confirmed.js";
import { projectJson } from "./list.js";
import { printJson } from "./output.js";
import { unknownProject } from "./select.js";

export const summary = "stop managing projects without stopping their agents or touching their files";
const help = `Usage: po forget NAME… [--yes] [--dry-run]

Removes each project's table from fleet.toml and po's record of it (the inventory), so that the
next po apply does not stop its agents and po status no longer lists it. Its agents keep running
and its files are not touched. po import adopts it again. The inventory is written first, and put
back when fleet.toml cannot be written: a failure (a full disk) leaves both as they were.

Options:
${EDIT_HELP}
${COMMON_HELP}`;

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb("forget", argv, EDIT_OPTIONS, help);
  if (!args) return 0;
  const names = [...new Set(args.positionals)];
  if (!names.length) throw new UserError("forget: name the projects to forget; see po forget --help");
  const file = resolve(args.values.fleet);
  const { fleet } = await requireFleet(file);
  for (const n of names) if (!fleet.projects.some((p) => p.name === n)) throw unknownProject(n, fleet);
  const dryRun = Boolean(args.values["dry-run"]);
  const edit = (source: string) => names.reduce((s, n) => removeTable(s, ["projects", n]), source);
  const changes = names.map((n) => ({
    project: n,
    key: "(table)",
    old: projectJson(fleet.projects.find((p) => p.name === n)!),
  }));
  const state = stateDir(file);
  const result = await editConfirmed(file, edit, {
    verb: "forget",
    yes: Boolean(args.values.yes),
    dryRun,
    json: args.values.json,
    changes,
    // The inventory first: a fleet.toml without the project beside an inventory that still has it
    // would make the next apply stop the project's agents as a removed project.
    first: () =>
      replaceInventory(
        state,
        readInventory(state).filter((e) => !names.includes(e.name)),
      ),
  });
  if (args.values.json) printJson({ forgotten: result.written ? names : [], dryRun, written: result.written });
  else if (result.written)
    for (const n of names)
      process.stdout.write(`forgot ${n}: po no longer manages it; its agents and files are left as they are\n`);
  return dryRun && args.values["detailed-exitcode"] && result.changed ? 2 : 0;
}
