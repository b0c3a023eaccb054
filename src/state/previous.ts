// The ref a project had before its last pin, from the journal: what po update --previous returns to.
import { readJournal, type JournalLine } from "./state.js";

/** The journal's record of the project's last successful pin (an apply's or a revert's); undefined when none. */
export function lastPin(stateDir: string, project: string): JournalLine | undefined {
  return readJournal(stateDir)
    .filter(
      (l) =>
        l.project === project &&
        l.outcome === "ok" &&
        l.from !== undefined &&
        ((l.event === "end" && l.action === "pin") || (l.event === "revert" && l.step === "pin")),
    )
    .at(-1);
}

/** The tag (else the commit) the project's last successful pin moved away from; undefined when none. */
export function previousRef(stateDir: string, project: string): string | undefined {
  const last = lastPin(stateDir, project);
  return last ? (last.fromRef ?? last.from) : undefined;
}
