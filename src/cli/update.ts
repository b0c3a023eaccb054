// po update NAME REF: a new harness ref in fleet.toml, then apply that project (re-pin it).
import { oneArg, runSet, type SetVerb } from "./set-project.js";

export const summary = "pin a project to another harness ref in fleet.toml and apply it";
const verb: SetVerb = {
  verb: "update",
  usage: "update NAME REF",
  about: "Sets ref = REF for project NAME in fleet.toml (a tag, branch or commit of its harness).",
  key: "ref",
  value: oneArg("update", "REF"),
};
export const run = (argv: string[]) => runSet(verb, argv);
