/* Generated from schema/ by `npm run gen` (json-schema-to-typescript). Do not edit. */

/**
 * fleet.toml: the desired state of a fleet of agent projects, managed by po (the project orchestrator).
 */
export interface Fleet {
  /**
   * Format version of this file. Only 1 exists.
   */
  version: 1;
  /**
   * Agent harnesses that projects may pin, by name. Each is a git repository checked out as a submodule in every project that uses it.
   */
  harnesses?: {
    [k: string]: Harness;
  };
  /**
   * Other machines that run projects of this fleet, by name. po reaches each over OpenSSH and runs po there (docs/hosts.md).
   */
  hosts?: {
    [k: string]: Host;
  };
  /**
   * The projects of the fleet, by name. A project is its own git repository; only this file knows it belongs to the fleet.
   */
  projects?: {
    [k: string]: Project;
  };
  rollout?: Rollout;
  /**
   * argv run once per event of po (apply.failed, apply.not_converged), with the event as one JSON object on stdin. No shell; bounded by a timeout; its failure is logged and never fails the apply.
   *
   * @minItems 1
   */
  notify?: [string, ...string[]];
}
/**
 * An agent harness: a git repository that starts and stops a project's agents.
 */
export interface Harness {
  /**
   * Where the harness repository is cloned from: a URL, an absolute path or a file:// URL.
   */
  url: string;
  /**
   * The submodule path of the harness inside each project.
   */
  path?: string;
  /**
   * argv run in the project root to start every agent that is not running. Must be idempotent.
   *
   * @minItems 1
   */
  up: [string, ...string[]];
  /**
   * argv run in the project root to stop every agent of the project. Must be idempotent.
   *
   * @minItems 1
   */
  down: [string, ...string[]];
  /**
   * Optional argv run in the project root (bounded by timeout_s) that prints one JSON object per agent and line: agent, state (starting, working, waiting, idle, failed, stopped), since, detail. po status shows it.
   *
   * @minItems 1
   */
  status?: [string, ...string[]];
  /**
   * tmux session name of one agent: {dir} is the project directory's base name, {agent} the agent's name.
   */
  session?: string;
  /**
   * Seconds that up or down may take before po stops it (its whole process group) and reports a failure.
   */
  timeout_s?: number;
}
/**
 * Another machine, reached over OpenSSH, whose po observes and changes the projects that live there.
 */
export interface Host {
  /**
   * The OpenSSH destination: user@host, host, or an alias of the operator's ssh config (which may set port, key and jump host); no spaces, and not starting with '-'.
   */
  ssh: string;
  /**
   * argv of po on that host, run through ssh (each word quoted for the remote shell).
   *
   * @minItems 1
   */
  po?: [string, ...string[]];
}
/**
 * One project of the fleet.
 */
export interface Project {
  /**
   * Where the project repository lives: absolute, ~/..., or relative to the folder holding fleet.toml. On another host: absolute or ~/... on that host.
   */
  location: string;
  /**
   * A name: lowercase letters, digits, '.', '_' and '-', starting with a letter or digit.
   */
  host?: string;
  /**
   * A name: lowercase letters, digits, '.', '_' and '-', starting with a letter or digit.
   */
  harness: string;
  /**
   * Tag, branch or commit of the harness to pin in the project.
   */
  ref: string;
  /**
   * true: the project's agents should run; false: they should not.
   */
  enabled?: boolean;
  /**
   * Where to clone the project from when its location is missing.
   */
  url?: string;
}
/**
 * Defaults for rolling a change out in waves (po apply, po update); options on the command line win.
 */
export interface Rollout {
  /**
   * Projects per wave: a whole number, or a percentage of the projects being changed such as "25%".
   */
  wave?: number | string;
  /**
   * Size of the first wave; po asks before the next wave unless --yes.
   */
  canary?: number;
  /**
   * Health gate: seconds every session of a started project must stay live, or the project failed.
   */
  settle_s?: number;
  /**
   * Once this many projects failed, no further wave starts; the rest are held unchanged.
   */
  max_failures?: number;
  /**
   * Put a project whose start or health gate failed back on its previous pin (a new commit).
   */
  revert?: boolean;
}
