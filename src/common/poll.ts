// The one way po waits for the world: poll a condition with a bound (and backing off a little),
// never a bare sleep.

/** Resolves true once `done` holds, false when `timeoutMs` pass or `signal` aborts first. */
export async function pollUntil(
  done: () => boolean | Promise<boolean>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 20; ; delay = Math.min(delay * 2, 200)) {
    if (await done()) return true;
    if (Date.now() >= deadline || signal?.aborted) return false;
    await new Promise((r) => setTimeout(r, delay));
  }
}
