// The rollout options that apply and the edit verbs share: --wave, --canary, --settle,
// --max-failures, --no-revert, with defaults from [rollout] in fleet.toml (the command line wins).
import type { DesiredProject, RolloutDefaults } from "../../reconcile/model.js";
import { parseWaveSize, type WaveSize } from "../../reconcile/waves.js";
import { UserError } from "../common/problems.js";
import { wholeNumber } from "./args.js";

export const ROLLOUT_OPTIONS = {
  wave: { type: "string" },
  canary: { type: "string" },
  settle: { type: "string" },
  "max-failures": { type: "string" },
  "no-revert": { type: "boolean" },
} as const;

export const ROLLOUT_HELP = `Rollout (defaults from [rollout] in fleet.toml; the command line wins):
  --wave N|P%        projects per wave (default: all in one wave)
  --canary N         the first wave's size; asks before the next wave (--yes goes on)
  --settle S         health gate: every session of a started project must stay live S seconds
  --max-failures K   once K projects failed, no further wave starts (the rest are held)
  --no-revert        leave a project whose start or health gate failed as it is (default:
                     stop it, pin its previous commit again with a new commit, start it)`;

export interface RolloutPolicy {
  wave?: WaveSize;
  canary?: number;
  settleS: number;
  maxFailures?: number;
  revert: boolean;
}

function waveOf(verb: string, value: unknown): WaveSize | undefined {
  if (value === undefined) return undefined;
  const size = parseWaveSize(String(value));
  if (!size)
    throw new UserError(`${verb}: --wave takes a number of projects or a percentage (N or P%), not '${value}'`);
  return size;
}

/** The policy the options and [rollout] ask for; undefined when neither asks for waves or a gate. */
export function rolloutPolicy(
  verb: string,
  values: Record<string, unknown>,
  defaults: RolloutDefaults = {},
): RolloutPolicy | undefined {
  const canary = values.canary ?? defaults.canary;
  const settle = values.settle ?? defaults.settleS;
  const max = values["max-failures"] ?? defaults.maxFailures;
  const policy: RolloutPolicy = {
    wave: waveOf(verb, values.wave ?? defaults.wave),
    canary: canary === undefined ? undefined : wholeNumber(verb, "canary", canary, 1),
    settleS: wholeNumber(verb, "settle", settle, 0, 0),
    maxFailures: max === undefined ? undefined : wholeNumber(verb, "max-failures", max, 1),
    revert: !values["no-revert"] && defaults.revert !== false,
  };
  const asked = policy.wave || policy.canary !== undefined || policy.settleS > 0 || policy.maxFailures !== undefined;
  return asked ? policy : undefined;
}

/**
 * A rollout's health gate and revert watch this machine's tmux and pin here (src/act/rollout.ts):
 * for a project on another host the gate would pass without looking and a revert would act on the
 * wrong machine, so a rollout that starts one with either is refused before anything is written or run.
 */
export function refuseRemoteGate(verb: string, policy: RolloutPolicy | undefined, started: DesiredProject[]): void {
  const remote = started.filter((p) => p.host).map((p) => `${p.name}@${p.host}`);
  if (!policy || (policy.settleS === 0 && !policy.revert) || !remote.length) return;
  throw new UserError(
    `${verb}: a rollout's health gate and revert do not reach projects on other hosts (${remote.join(", ")}); ` +
      `pass --settle 0 --no-revert to roll them out in waves without either`,
  );
}

/** The rollout options as given, to pass on to po apply. */
export function rolloutArgv(values: Record<string, unknown>): string[] {
  return Object.keys(ROLLOUT_OPTIONS).flatMap((k) =>
    values[k] === undefined ? [] : values[k] === true ? [`--${k}`] : [`--${k}`, String(values[k])],
  );
}
