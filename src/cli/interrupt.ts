// Talking to the operator during an apply: the confirmation question and Ctrl-C handling.
import { createInterface } from "node:readline/promises";

/** Asks on the terminal; a Ctrl-C at the question counts as an interrupt (and as no). */
export async function confirm(
  interrupt: Interrupt,
  question = "Do you want to perform these actions?",
): Promise<boolean> {
  // Not readline's terminal mode: its cursor codes would be written out as text by guardOutput;
  // the terminal's own line editing remains, and a Ctrl-C reaches interrupts()' handler.
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: false });
  rl.on("SIGINT", () => interrupt.trigger());
  try {
    const answer = await rl.question(`\n${question} Only 'yes' will be accepted: `, {
      signal: interrupt.soft,
    });
    return answer.trim() === "yes";
  } catch {
    return false;
  } finally {
    rl.close();
  }
}

/**
 * Ctrl-C (or SIGTERM) once: start no new action, let the running ones finish. Twice: also stop
 * the running harness processes (their whole process groups). The lock is released either way.
 */
export interface Interrupt {
  soft: AbortSignal;
  hard: AbortSignal;
  trigger(): void;
  dispose(): void;
}

export function interrupts(): Interrupt {
  const soft = new AbortController();
  const hard = new AbortController();
  const trigger = () => {
    if (!soft.signal.aborted) {
      process.stderr.write(
        "\npo: interrupted: finishing the running actions, starting no new ones (interrupt again to stop them)…\n",
      );
      soft.abort();
    } else if (!hard.signal.aborted) {
      process.stderr.write("\npo: interrupted again: stopping the running harness processes…\n");
      hard.abort();
    }
  };
  process.on("SIGINT", trigger);
  process.on("SIGTERM", trigger);
  return {
    soft: soft.signal,
    hard: hard.signal,
    trigger,
    dispose() {
      process.off("SIGINT", trigger);
      process.off("SIGTERM", trigger);
    },
  };
}
