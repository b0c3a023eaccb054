/* Generated from schema/ by `npm run gen` (json-schema-to-typescript). Do not edit. */

/**
 * agents.toml: the agents of one project, each run as a tmux session. Agents are operator-driven: nothing wakes them on a timer.
 */
export interface Agents {
  watchdog?: Watchdog;
  /**
   * The agents, by name: lowercase letters, digits, '.', '_' and '-', starting with a letter or digit.
   */
  agents?: {
    [k: string]: Agent;
  };
}
/**
 * The heal watchdog: restarts an agent with watch = "heal" whose session died, and does nothing else.
 */
export interface Watchdog {
  /**
   * Seconds between two checks of the heal watchdog.
   */
  interval_s?: number;
}
/**
 * One agent: a process run in its own tmux session.
 */
export interface Agent {
  /**
   * argv of the agent process (no shell): the program, then its arguments.
   *
   * @minItems 1
   */
  command: [string, ...string[]];
  /**
   * Path of the agent's prompt file, relative to the project root. Its path is handed to the agent in the environment variable PO_PROMPT_FILE.
   */
  prompt?: string;
  /**
   * "heal": the watchdog restarts the agent when its session is dead; "none": it is never restarted.
   */
  watch?: "heal" | "none";
  /**
   * 'wake' is not supported: agents are operator-driven and nothing wakes them on a timer (no periodic wake). Remove it; use watch = "heal" to keep an agent alive.
   */
  wake?: never;
}
