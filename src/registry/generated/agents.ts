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
  /**
   * Restarts of one agent within restart_window_s after which the watchdog gives up on it when it dies again: it is marked failed and not restarted until po agents up (or a start by po apply).
   */
  max_restarts?: number;
  /**
   * Seconds over which restarts are counted against max_restarts.
   */
  restart_window_s?: number;
  /**
   * argv run once per event of the runtime (agent.failed: the watchdog gave up on an agent; agent.waiting: an agent reported waiting), with the event as one JSON object on stdin. No shell; bounded by a timeout; its failure is logged and changes nothing else.
   *
   * @minItems 1
   */
  notify?: [string, ...string[]];
}
/**
 * One agent: a process run in its own tmux session.
 */
export interface Agent {
  /**
   * argv of the agent process (no shell): the program, then its arguments. In any element, {prompt} becomes the absolute path of the agent's prompt file and {prompt_text} its text (of any size).
   *
   * @minItems 1
   */
  command: [string, ...string[]];
  /**
   * Path of the agent's prompt file, relative to the project root. It reaches the agent through {prompt} or {prompt_text} in command; its path is also in the environment variable PO_PROMPT_FILE.
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
