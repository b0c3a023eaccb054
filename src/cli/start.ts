// po start NAME: enabled = true in fleet.toml, then apply that project.
import { noArg, runSet, type SetVerb } from "./set-project.js";

export const summary = "enable a project in fleet.toml and apply it";
const verb: SetVerb = {
  verb: "start",
  usage: "start NAME",
  about: "Sets enabled = true for project NAME in fleet.toml.",
  key: "enabled",
  value: noArg("start", true),
};
export const run = (argv: string[]) => runSet(verb, argv);
