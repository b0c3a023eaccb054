// Picking projects by name, with a suggestion for a typo.
import type { DesiredFleet, DesiredProject } from "../../reconcile/model.js";
import { UserError } from "../common/problems.js";
import { didYouMean } from "../common/suggest.js";

export function unknownProject(name: string, fleet: DesiredFleet): UserError {
  const names = fleet.projects.map((p) => p.name);
  return new UserError(
    `unknown project '${name}'${didYouMean(name, names)}; po list shows the projects of ${fleet.path}`,
  );
}

/** The one project named by the positionals of `verb`. */
export function findProject(fleet: DesiredFleet, positionals: string[], verb: string): DesiredProject {
  if (positionals.length !== 1) throw new UserError(`${verb}: takes one project name; see po ${verb} --help`);
  const p = fleet.projects.find((x) => x.name === positionals[0]);
  if (!p) throw unknownProject(positionals[0], fleet);
  return p;
}

/** The projects named (all when none), less the excluded ones, refusing unknown names. */
export function targets(fleet: DesiredFleet, names: string[], exclude: string[] = []): Set<string> {
  for (const n of [...names, ...exclude]) if (!fleet.projects.some((p) => p.name === n)) throw unknownProject(n, fleet);
  const chosen = names.length ? names : fleet.projects.map((p) => p.name);
  return new Set(chosen.filter((n) => !exclude.includes(n)));
}
