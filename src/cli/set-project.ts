// What po start, stop and update share: set one key of one project in fleet.toml (the single
// record; nothing acts before it is written), show the diff, then apply that one project.
import { resolve } from "node:path";
import { parseVerb, COMMON_HELP } from "./args.js";
import { editFleet, setKey, type TomlValue } from "../registry/edit-fleet.js";
import { requireFleet } from "../registry/fleet.js";
import { run as apply } from "./apply.js";
import { printJson } from "./output.js";
import { findProject } from "./select.js";
import { UserError } from "../common/problems.js";

export interface SetVerb {
  verb: string;
  usage: string;
  about: string;
  key: string;
  /** the value to set, from the positionals after NAME */
  value(rest: string[]): TomlValue;
}

export function helpOf(v: SetVerb): string {
  return `Usage: po ${v.usage} [--yes] [--no-apply] [--parallelism N] [--json]

${v.about} The edit keeps every comment and blank line of fleet.toml, is validated before it is
written, and is shown as a diff. Then that one project is applied, with the confirmation rules of
po apply (a terminal asks; without one, --yes is required).

Options:
  --yes, -y        apply without asking
  --no-apply       only edit fleet.toml
  --parallelism N  passed to apply
${COMMON_HELP}`;
}

export async function runSet(v: SetVerb, argv: string[]): Promise<number> {
  const args = parseVerb(
    v.verb,
    argv,
    { yes: { type: "boolean", short: "y" }, "no-apply": { type: "boolean" }, parallelism: { type: "string" } },
    helpOf(v),
  );
  if (!args) return 0;
  const [name, ...rest] = args.positionals;
  const { fleet } = await requireFleet(args.values.fleet);
  const project = findProject(fleet, name === undefined ? [] : [name], v.verb);
  const value = v.value(rest);
  const file = resolve(args.values.fleet);
  const edit = await editFleet(file, (s) => setKey(s, ["projects", project.name], v.key, value));
  if (args.values.json && args.values["no-apply"])
    printJson({ project: project.name, key: v.key, value, changed: edit.changed, diff: edit.diff });
  else if (!args.values.json)
    process.stdout.write(
      edit.changed
        ? edit.diff
        : `fleet.toml already has projects.${project.name}.${v.key} = ${JSON.stringify(value)}\n`,
    );
  if (args.values["no-apply"]) return 0;
  const pass = [
    ...(args.values.yes ? ["--yes"] : []),
    ...(args.values.json ? ["--json"] : []),
    ...(args.values.parallelism ? ["--parallelism", String(args.values.parallelism)] : []),
  ];
  if (!args.values.json) process.stdout.write("\n");
  return apply(["--fleet", file, "--target", project.name, ...pass]);
}

export function oneArg(verb: string, what: string): (rest: string[]) => string {
  return (rest) => {
    if (rest.length !== 1) throw new UserError(`${verb} takes NAME and ${what}; see po ${verb} --help`);
    return rest[0];
  };
}

export function noArg(verb: string, value: TomlValue): (rest: string[]) => TomlValue {
  return (rest) => {
    if (rest.length) throw new UserError(`${verb} takes one project name; see po ${verb} --help`);
    return value;
  };
}
