// po start NAME… | --all: enabled = true in fleet.toml, then apply those projects.
import { fixed, runSet, type SetVerb } from "./set-project.js";

export const summary = "enable projects in fleet.toml and apply them";
const verb: SetVerb = {
  verb: "start",
  usage: "start NAME… | --all",
  about: "Sets enabled = true for the named projects in fleet.toml.",
  key: "enabled",
  values: fixed(true),
};
export const run = (argv: string[]) => runSet(verb, argv);
