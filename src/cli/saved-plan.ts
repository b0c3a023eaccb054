// What a saved plan must be before po apply runs it: not replayed, not stale, not edited, and made
// for the fleet the operator points at.
import { existsSync, realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { UserError } from "../common/problems.js";
import { DEFAULT_FLEET, loadFleet } from "../registry/fleet.js";
import { observedChanges, type SavedPlan } from "../state/plan-file.js";

export function checkSaved(saved: SavedPlan, fresh: SavedPlan, applied: Set<string>, file: string): void {
  if (applied.has(saved.id))
    throw new UserError(
      `saved plan ${file} (${saved.id}) was already applied, and a plan is applied only once; run po plan again`,
    );
  if (saved.fleet.sha256 !== fresh.fleet.sha256)
    throw new UserError(`Saved plan is stale: ${saved.fleet.path} changed since it was made; run po plan again`);
  if (saved.fingerprint !== fresh.fingerprint) {
    const what = observedChanges(saved.observed, fresh.observed).slice(0, 5).join("; ") || "the observed state differs";
    throw new UserError(`Saved plan is stale: ${what}; run po plan again`);
  }
  // The planner is pure: the same fleet and world give the same actions. Others were edited in.
  if (JSON.stringify(saved.actions) !== JSON.stringify(fresh.actions))
    throw new UserError(
      `saved plan ${file}: its actions are not the ones this fleet and world give (was the file ` +
        `edited?); run po plan again`,
    );
}

const realOr = (file: string) => (existsSync(file) ? realpathSync(file) : resolve(file));

/** A saved plan acts only on the fleet it was made from: the one --fleet names, or this folder's. */
export function boundToFleet(saved: SavedPlan, file: string, fleetFile: string): void {
  if (realOr(saved.fleet.path) !== realOr(fleetFile))
    throw new UserError(
      `saved plan ${file} was made for ${saved.fleet.path}, not ${resolve(fleetFile)}; run po apply ` +
        `from that fleet's folder, or pass --fleet ${saved.fleet.path}`,
    );
}

/** The fleet the operator works in (./fleet.toml or $PO_FLEET): a saved plan of another one still asks. */
export function isCurrentFleet(fleetFile: string): boolean {
  return realOr(fleetFile) === realOr(process.env.PO_FLEET ?? DEFAULT_FLEET);
}

/**
 * A positional that names an existing file is a saved plan, and so is one that looks like a path
 * (a "/" or ".json") and names no project, so that a missing plan file is reported as one.
 * Otherwise positionals are project names.
 */
export async function savedPlanFile(positionals: string[], fleetFile: string): Promise<string | undefined> {
  const [first] = positionals;
  if (first === undefined) return undefined;
  const file = existsSync(first)
    ? statSync(first).isFile()
    : /\/|\.json$/.test(first) && !(await loadFleet(fleetFile)).fleet?.projects.some((p) => p.name === first);
  if (!file) return undefined;
  if (positionals.length > 1)
    throw new UserError("apply takes one saved plan file, or project names; see po apply --help");
  return first;
}
