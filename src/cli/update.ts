// po update NAME… REF (or --all / --harness H; --latest, --previous): a new harness ref in
// fleet.toml for each project, checked first, then one apply that re-pins them (in waves if asked).
import { resolve } from "node:path";
import { runSet, type SetVerb } from "./set-project.js";
import { refsFor } from "./update-ref.js";
import { stateDir } from "../state/state.js";
import { UserError } from "../common/problems.js";

export const summary = "pin projects to another harness ref in fleet.toml and apply them";
const verb: SetVerb = {
  verb: "update",
  usage: "update NAME… REF",
  about:
    "Sets ref = REF for the projects in fleet.toml (a tag, branch or commit of their harness), after\n" +
    "checking that it resolves and is not lower than the version each project pins now. Instead of\n" +
    "names: --all or --harness H; instead of REF: --latest or --previous.",
  key: "ref",
  options: {
    harness: { type: "string" },
    latest: { type: "boolean" },
    previous: { type: "boolean" },
    pre: { type: "boolean" },
    "allow-downgrade": { type: "boolean" },
  },
  optionsHelp: `  --harness H          every project that uses harness H
  --latest             the newest release tag (semver order) of each project's harness
  --pre                with --latest: pre-releases count too
  --previous           the ref each project had before its last pin (a new pin commit, never a reset)
  --allow-downgrade    allow a move to a lower version than the one pinned now
`,
  extra(positionals, values) {
    if (values.latest && values.previous) throw new UserError("update: --latest or --previous, not both");
    if (values.latest || values.previous) return { names: positionals, rest: [] };
    if (!positionals.length)
      throw new UserError("update takes the projects and a REF (or --latest, --previous); see po update --help");
    return { names: positionals.slice(0, -1), rest: positionals.slice(-1) };
  },
  values(projects, rest, values, fleet) {
    return refsFor(fleet, projects, {
      ref: rest[0],
      latest: Boolean(values.latest),
      previous: Boolean(values.previous),
      pre: Boolean(values.pre),
      allowDowngrade: Boolean(values["allow-downgrade"]),
      offline: Boolean(values.offline),
      state: stateDir(resolve(String(values.fleet))),
    });
  },
};
export const run = (argv: string[]) => runSet(verb, argv);
