// The inventory of the last applied fleet: each project's location, harness and session names, so
// that a project that left fleet.toml can still be stopped and orphan sessions can be told apart.
import type { ActualProject, DesiredProject, InventoryEntry } from "../../reconcile/model.js";
import { realLocation } from "../common/real-location.js";

/** The inventory entry of a project: by location (a renamed key keeps it), else by name. */
export function knownEntry(inventory: InventoryEntry[], p: DesiredProject): InventoryEntry | undefined {
  const here = realLocation(p.location);
  return inventory.find((e) => realLocation(e.location) === here) ?? inventory.find((e) => e.name === p.name);
}

export interface InventoryInput {
  projects: DesiredProject[];
  /** the projects as observed after the apply */
  after: Map<string, ActualProject>;
  /** projects that had left fleet.toml when the apply was planned */
  removed: InventoryEntry[];
  /** removed projects whose stop did not succeed */
  failed: string[];
}

/**
 * Each project's location and session names as the world is after the apply (its agents, plus
 * orphans still live); a project not observed keeps what was recorded of it. A removed project
 * stays known until a stop of it succeeded, or nothing of it was live; a renamed one (same
 * location) is known by its new name only.
 */
export function nextInventory(input: InventoryInput, previous: InventoryEntry[]): InventoryEntry[] {
  const current = input.projects.map((p): InventoryEntry => {
    const a = input.after.get(p.name);
    const sessions = a ? [...a.sessions, ...(a.orphans ?? [])] : (knownEntry(previous, p)?.sessions ?? []);
    return { name: p.name, location: p.location, harness: p.harness, sessions, ...(p.host ? { host: p.host } : {}) };
  });
  const names = new Set(current.map((e) => e.name));
  const places = new Set(current.map((e) => realLocation(e.location)));
  const failed = new Set(input.failed);
  const removed = new Set(input.removed.map((e) => e.name));
  const kept = previous.filter(
    (e) => !names.has(e.name) && !places.has(realLocation(e.location)) && (failed.has(e.name) || !removed.has(e.name)),
  );
  return [...current, ...kept];
}
