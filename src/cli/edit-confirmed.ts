// An edit of fleet.toml that the operator sees first: the diff, then --dry-run, --yes or a question.
import { editFleet, type EditResult } from "../registry/edit-fleet.js";
import { UserError } from "../common/problems.js";
import { journal, stateDir, type JournalLine } from "../state/state.js";
import { confirm, interrupts } from "./interrupt.js";
import { recordDone } from "../state/private.js";

export interface EditChoice {
  verb: string;
  yes: boolean;
  dryRun: boolean;
  json: boolean;
  /** what the edit changes, journaled once it is written */
  changes: NonNullable<JournalLine["changes"]>;
}

/**
 * Shows the diff of `edit` and writes it (and journals `changes`) only when the operator agreed: --yes,
 * or 'yes' on a terminal. Without a terminal and without --yes it refuses before writing. `written` is false for
 * a dry run, a refusal at the question, or an edit that changes nothing.
 */
export async function editConfirmed(
  file: string,
  edit: (source: string) => string,
  choice: EditChoice,
): Promise<EditResult & { written: boolean }> {
  const preview = await editFleet(file, edit, false);
  if (!choice.json && preview.changed) process.stdout.write(preview.diff);
  if (!preview.changed || choice.dryRun) return { ...preview, written: false };
  if (!choice.yes) {
    if (!process.stdin.isTTY)
      throw new UserError(
        `${choice.verb}: refusing to edit fleet.toml without confirmation: no terminal; pass --yes, ` +
          `or --dry-run to preview`,
      );
    const interrupt = interrupts();
    try {
      if (!(await confirm(interrupt, "Write this change to fleet.toml?"))) {
        process.stdout.write("Cancelled; fleet.toml is unchanged.\n");
        return { ...preview, written: false };
      }
    } finally {
      interrupt.dispose();
    }
  }
  const written = await editFleet(file, edit);
  recordDone(`${file} was changed`, () =>
    journal(stateDir(file), { plan: "", event: "edit", verb: choice.verb, changes: choice.changes }),
  );
  return { ...written, written: true };
}
