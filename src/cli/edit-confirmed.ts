// An edit of fleet.toml that the operator sees first: the diff, then --dry-run, --yes or a question.
import { editFleet, type EditResult } from "../registry/edit-fleet.js";
import { UserError } from "../common/problems.js";
import { journal, stateDir, type JournalLine } from "../state/state.js";
import { confirm, interrupts } from "./interrupt.js";
import { recordDone, type Replaced } from "../state/private.js";

/** The options of a verb that only edits fleet.toml (import, forget), and their help lines. */
export const EDIT_OPTIONS = {
  yes: { type: "boolean", short: "y" },
  "dry-run": { type: "boolean" },
  "detailed-exitcode": { type: "boolean" },
} as const;
export const EDIT_HELP = `  --yes, -y           write without asking
  --dry-run           show the diff and write nothing
  --detailed-exitcode with --dry-run: exit 2 when fleet.toml would change`;

type Changes = NonNullable<JournalLine["changes"]>;

export interface EditChoice {
  verb: string;
  yes: boolean;
  dryRun: boolean;
  json: boolean;
  /** what the edit changes, journaled once it is written */
  changes: Changes;
  /** a state write made just before fleet.toml's, and undone when that fails (see editFleet) */
  first?: () => Replaced;
}

/** Without a terminal nothing can ask: refuse before writing, naming what the operator can pass instead. */
export function requireTerminal(verb: string, instead = ["--dry-run to preview"]): void {
  if (!process.stdin.isTTY)
    throw new UserError(
      `${verb}: refusing to change fleet.toml without confirmation: no terminal; pass --yes, ${instead.join(", or ")}`,
    );
}

/** The operator's answer at the terminal; no (and a note that nothing was written) on "no" or Ctrl-C. */
export async function operatorAgrees(question?: string): Promise<boolean> {
  const interrupt = interrupts();
  try {
    if (await confirm(interrupt, question)) return true;
  } finally {
    interrupt.dispose();
  }
  process.stdout.write("Cancelled; fleet.toml was not changed.\n");
  return false;
}

/**
 * Writes the edit, and journals what it changed when it changed anything. A journal that cannot be written
 * (a full disk) is one line saying `done` happened all the same.
 */
export async function writeJournaled(
  file: string,
  edit: (source: string) => string,
  verb: string,
  changes: (written: EditResult) => Changes,
  done = `${file} was changed`,
  first?: () => Replaced,
): Promise<EditResult> {
  const written = await editFleet(file, edit, true, first);
  if (written.changed)
    recordDone(done, () => journal(stateDir(file), { plan: "", event: "edit", verb, changes: changes(written) }));
  return written;
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
    requireTerminal(choice.verb);
    if (!(await operatorAgrees("Write this change to fleet.toml?"))) return { ...preview, written: false };
  }
  const written = await writeJournaled(file, edit, choice.verb, () => choice.changes, undefined, choice.first);
  return { ...written, written: true };
}
