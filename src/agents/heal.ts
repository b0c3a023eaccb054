// The heal watchdog's crash-loop rule (pure): when to restart a dead agent and when to back off.

/** A crash-looping agent is never restarted less than this far apart, at worst. */
export const BACKOFF_CAP_MS = 5 * 60_000;
/** A death this soon after a start is "quick": at least 10 s, and two checks (deaths are seen late). */
export function quickWindowMs(intervalMs: number): number {
  return Math.max(2 * intervalMs, 10_000);
}

/** Delay before restarting after `quickDeaths` quick deaths in a row: interval, 2×, 4×, … up to the cap. */
export function backoffDelayMs(quickDeaths: number, intervalMs: number, capMs = BACKOFF_CAP_MS): number {
  if (quickDeaths <= 0) return 0;
  return Math.min(capMs, intervalMs * 2 ** Math.min(quickDeaths - 1, 30));
}

/** What the watchdog knows of one heal agent (times in ms since the epoch). */
export interface HealRecord {
  restarts: number;
  lastStart?: number;
  quickDeaths: number;
  nextAttempt?: number;
  deadSince?: number;
  /** when the watchdog restarted it, within the restart window */
  recent?: number[];
  /** since when the watchdog has given up on it */
  failedSince?: number;
}

/** Like systemd's start limit: this many restarts within the window, and a death after them is the last. */
export interface RestartLimit {
  maxRestarts: number;
  windowMs: number;
}

export type Step =
  | { action: "fail"; reason: string; rec: HealRecord }
  | { action: "start"; reason: string; rec: HealRecord }
  | { action: "backoff"; reason: string; delayMs: number; rec: HealRecord }
  | { action: "wait"; rec: HealRecord };

export const secs = (ms: number) => `${Math.round(ms / 100) / 10} s`;
const quickText = (n: number) => `${n} quick death${n === 1 ? "" : "s"} in a row`;

/**
 * The agent's session is dead at `now`: restart it now, start backing off, keep waiting, or give
 * up (fail) when it already had `limit.maxRestarts` restarts within the window.
 */
export function onDead(rec: HealRecord, now: number, intervalMs: number, limit?: RestartLimit): Step {
  const recent = (rec.recent ?? []).filter((t) => limit && now - t < limit.windowMs);
  const seen = { ...rec, deadSince: rec.deadSince ?? now, recent };
  if (rec.failedSince !== undefined) return { action: "wait", rec: seen };
  if (limit && recent.length >= limit.maxRestarts) {
    const reason = `died again after ${recent.length} restarts within ${secs(limit.windowMs)}`;
    return { action: "fail", reason, rec: { ...seen, nextAttempt: undefined, failedSince: now } };
  }
  if (rec.nextAttempt !== undefined) {
    if (now < rec.nextAttempt) return { action: "wait", rec: seen };
    return {
      action: "start",
      reason: `back-off over (${quickText(rec.quickDeaths)})`,
      rec: { ...seen, nextAttempt: undefined },
    };
  }
  const uptime = rec.lastStart === undefined ? undefined : now - rec.lastStart;
  if (uptime === undefined || uptime > quickWindowMs(intervalMs)) {
    const reason = uptime === undefined ? "session is dead" : `session died (it had run up to ${secs(uptime)})`;
    return { action: "start", reason, rec: { ...seen, quickDeaths: 0 } };
  }
  const quickDeaths = rec.quickDeaths + 1;
  const delayMs = backoffDelayMs(quickDeaths, intervalMs);
  const reason = `died within ${secs(uptime)} of its start (${quickText(quickDeaths)})`;
  return { action: "backoff", reason, delayMs, rec: { ...seen, quickDeaths, nextAttempt: now + delayMs } };
}

/** The agent is live at `now`: once it has outlived the quick window, its crash loop is over. */
export function onAlive(rec: HealRecord, now: number, intervalMs: number): HealRecord {
  const stable = rec.lastStart === undefined || now - rec.lastStart > quickWindowMs(intervalMs);
  const quickDeaths = stable ? 0 : rec.quickDeaths;
  return { ...rec, deadSince: undefined, nextAttempt: undefined, failedSince: undefined, quickDeaths };
}

export function onStarted(rec: HealRecord, now: number): HealRecord {
  return {
    ...rec,
    restarts: rec.restarts + 1,
    lastStart: now,
    deadSince: undefined,
    recent: [...(rec.recent ?? []), now],
  };
}

// ---- the state file read by `po agents status` ----

export interface WatchdogState {
  format: "po-watchdog-state/1";
  pid: number;
  started: string;
  lastCheck: string | null;
  checks: number;
  agents: Record<
    string,
    {
      restarts: number;
      lastStart: string | null;
      quickDeaths: number;
      nextAttempt: string | null;
      deadSince: string | null;
      /** the watchdog gave up on it: when, its last exit status, the last lines of its log */
      failed?: { since: string; exitStatus: number | null; lastLines: string[] } | null;
    }
  >;
}
