// po stop NAME: enabled = false in fleet.toml, then apply that project.
import { noArg, runSet, type SetVerb } from "./set-project.js";

export const summary = "disable a project in fleet.toml and apply it";
const verb: SetVerb = {
  verb: "stop",
  usage: "stop NAME",
  about: "Sets enabled = false for project NAME in fleet.toml.",
  key: "enabled",
  value: noArg("stop", false),
};
export const run = (argv: string[]) => runSet(verb, argv);
