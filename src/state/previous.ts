// The ref a project had before its last pin, from the journal: what po update --previous returns to.
import { readJournal } from "./state.js";

/** The tag (else the commit) the project's last successful pin moved away from; undefined when none. */
export function previousRef(stateDir: string, project: string): string | undefined {
  const pins = readJournal(stateDir).filter(
    (l) =>
      l.project === project &&
      l.outcome === "ok" &&
      l.from !== undefined &&
      ((l.event === "end" && l.action === "pin") || (l.event === "revert" && l.step === "pin")),
  );
  const last = pins.at(-1);
  return last ? (last.fromRef ?? last.from) : undefined;
}
