// Rollout waves: which projects go together, and what happens after a wave, as pure decisions.

/** A wave size: a number of projects, or a percentage of the projects being rolled out. */
export type WaveSize = { count: number } | { percent: number };

export interface WavePolicy {
  /** projects per wave; all in one wave when undefined */
  wave?: WaveSize;
  /** the first wave's size (the canary) */
  canary?: number;
}

/** Parses "N" or "P%" (1-100); undefined when the text is neither. */
export function parseWaveSize(text: string): WaveSize | undefined {
  const m = /^([1-9]\d*)(%?)$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2] && n > 100) return undefined;
  return m[2] ? { percent: n } : { count: n };
}

function sizeOf(size: WaveSize | undefined, total: number): number {
  if (!size) return total;
  if ("count" in size) return size.count;
  return Math.max(1, Math.ceil((total * size.percent) / 100));
}

/** The projects in waves, in their given order: the canary first, then waves of the wave size. */
export function splitWaves(projects: string[], policy: WavePolicy): string[][] {
  const waves: string[][] = [];
  let rest = [...projects];
  if (policy.canary !== undefined && rest.length) {
    waves.push(rest.slice(0, policy.canary));
    rest = rest.slice(policy.canary);
  }
  const size = Math.max(1, sizeOf(policy.wave, projects.length));
  for (let i = 0; i < rest.length; i += size) waves.push(rest.slice(i, i + size));
  return waves;
}

export interface WaveProgress {
  /** projects that failed (their actions or their health gate) so far */
  failures: number;
  /** the rollout's limit: once this many failed, no further wave starts */
  maxFailures?: number;
  /** the wave about to start (0 is the first) */
  next: number;
  /** the first wave was a canary */
  canary: boolean;
  /** --yes: go on after the canary without asking */
  yes: boolean;
}

export type WaveDecision = "start" | "ask" | "hold";

/** Whether the next wave starts, needs the operator's word first, or is held with all after it. */
export function nextWave(p: WaveProgress): WaveDecision {
  if (p.failures >= (p.maxFailures ?? Infinity)) return "hold";
  if (p.canary && p.next === 1 && !p.yes) return "ask";
  return "start";
}
