// What an apply waits for around a harness run: the sessions its `up` should start, and the harness
// process groups a killed apply left running (src/adapters/harness-run.ts runs the harness itself).
import { groupAlive, groupGone, stopGroup, type ChildGroup } from "../adapters/process-group.js";
import { pollUntil } from "../common/poll.js";
import { listSessions } from "../adapters/tmux.js";

/**
 * Harness process groups that a killed apply left running: wait for each until the moment its
 * apply would have stopped it (its timeout), then stop it as that apply would have. The wait is
 * bounded by the harness timeout, so a group id reused by an unrelated process meanwhile can cost
 * a wait, and is signalled only if it outlives that bound.
 */
export async function settleOrphans(
  children: ChildGroup[],
  note: (message: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const left = children.filter((c) => groupAlive(c.pgid));
  if (!left.length) return;
  note(
    `waiting for the harness process group${left.length > 1 ? "s" : ""} ` +
      `${left.map((c) => c.pgid).join(", ")} that the killed apply left running`,
  );
  // An interrupt ends the wait and leaves them alone: the apply then stops before planning.
  await Promise.all(
    left.map(
      async (c) =>
        (await groupGone(c.pgid, Math.max(0, c.deadline - Date.now()), signal)) || signal?.aborted || stopGroup(c.pgid),
    ),
  );
}

/** Waits (polling, bounded) until `done(live)` holds; throws with `what(live)` when it does not in time. */
export async function waitForSessions(
  done: (live: Set<string>) => boolean,
  timeoutMs: number,
  what: (live: Set<string>) => string,
): Promise<void> {
  let live = new Set<string>();
  if (!(await pollUntil(async () => done((live = await listSessions())), timeoutMs))) throw new Error(what(live));
}
