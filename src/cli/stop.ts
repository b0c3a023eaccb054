// po stop NAME… | --all: enabled = false in fleet.toml, then apply those projects.
import { fixed, runSet, type SetVerb } from "./set-project.js";

export const summary = "disable projects in fleet.toml and apply them";
const verb: SetVerb = {
  verb: "stop",
  usage: "stop NAME… | --all",
  about: "Sets enabled = false for the named projects in fleet.toml.",
  key: "enabled",
  values: fixed(false),
};
export const run = (argv: string[]) => runSet(verb, argv);
