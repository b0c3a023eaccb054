// The safety rules of fleet.toml and agents.toml values, beyond their schemas: every value that
// reaches git, tmux, ssh or exec is data, never an option, a transport of the file's choosing or a
// control character (docs/security.md).
import { posix } from "node:path";
import type { Problem } from "../common/problems.js";
import type { Locator } from "./toml-locate.js";
import type { SchemaName } from "./schema-check.js";

// C0 controls, DEL and the C1 controls: never meaningful in a name, path, url or ref.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/**
 * Keys whose values are handed to git as arguments: a leading '-' would make them options. (A host's
 * `ssh` is one too; the schema's pattern for it already refuses a leading '-'.)
 */
const NOT_OPTION = new Set(["url", "location", "path", "prompt"]);

/** The transports a url may use; everything else (ext::, fd::, any X:: remote helper) is refused. */
const SCHEMES = new Set(["https", "http", "ssh", "git", "file", "git+ssh", "ssh+git"]);

const describeChar = (c: string) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;

/** Why `url` may not be handed to git, or undefined: see SCHEMES. */
function urlProblem(url: string): string | undefined {
  const helper = /^([A-Za-z][A-Za-z0-9+.-]*)::/.exec(url);
  if (helper) return `the remote-helper transport '${helper[1]}::' is not allowed; use an https, ssh or file url`;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/]*)/.exec(url);
  if (scheme) {
    if (!SCHEMES.has(scheme[1].toLowerCase()))
      return `the transport '${scheme[1]}://' is not allowed; use one of ${[...SCHEMES].join(", ")}`;
    if (scheme[2].split("@").some((part) => part.startsWith("-")))
      return "a user or host name in a url cannot start with '-'";
  }
  return undefined;
}

/**
 * Why a harness path is not a plain folder inside the project's work tree, or undefined. A leading
 * '/' or a backslash is the schema's to report (and safetyProblems does not repeat it).
 */
function harnessPathProblem(path: string): string | undefined {
  const parts = path.split("/");
  if (parts.includes("..")) return "a harness path cannot contain '..'; it must stay inside the project";
  if (parts.some((p) => p.toLowerCase() === ".git"))
    return "a harness path cannot be in or under .git; use a folder of the work tree such as 'engine'";
  const normal = posix.normalize(path).replace(/\/$/, "");
  // "." and "./" name the project root itself: the usual folder is the better hint
  if (normal === ".") return "a harness path must be normalised, like 'engine'";
  if (normal !== path) return `a harness path must be normalised, like '${normal}'`;
  return undefined;
}

/**
 * Why a string value may not be used; `key` is undefined for an element of an array (an argv word).
 * An empty value of a key is the schema's to report (every string key has a minLength).
 */
function stringProblem(key: string | undefined, value: string): string | undefined {
  if (key === "ref") return undefined; // git's ref rules (gitref.ts) say it all, in fleet.ts
  if (value === "" && key === undefined) return "an argument cannot be an empty string";
  if (value.includes("\0")) return "cannot contain a NUL byte";
  // an argv word may hold a newline or a tab (sh -c scripts); it never reaches a shell as text
  if (key === undefined) return undefined;
  const control = CONTROL.exec(value);
  if (control) return `cannot contain a control character (${describeChar(control[0])})`;
  if (NOT_OPTION.has(key) && value.startsWith("-")) return `cannot start with '-' (git would read it as an option)`;
  if (key === "url") return urlProblem(value);
  // the only `path` either schema allows is a harness's: any other is refused, with all under it
  if (key === "path") return harnessPathProblem(value);
  return undefined;
}

/** tmux turns '.' and ':' into '_': agents whose names differ only there would share one session. */
function agentCollisions(data: Record<string, unknown>, problem: (path: string[], msg: string) => Problem): Problem[] {
  const agents = data.agents;
  if (typeof agents !== "object" || agents === null || Array.isArray(agents)) return [];
  const seen = new Map<string, string>();
  const out: Problem[] = [];
  for (const name of Object.keys(agents)) {
    const session = name.replace(/[.:]/g, "_");
    const other = seen.get(session);
    if (other !== undefined)
      out.push(
        problem(
          ["agents", name],
          `agents '${other}' and '${name}' would share the tmux session '…-${session}' ` +
            `(tmux turns '.' into '_'); rename one`,
        ),
      );
    else seen.set(session, name);
  }
  return out;
}

/**
 * Problems of the values of a parsed fleet.toml or agents.toml. Where the schema already refused a
 * key, its value and everything under it (an unknown table, say) are that one problem, not more.
 */
export function safetyProblems(
  schema: SchemaName,
  data: Record<string, unknown>,
  file: string,
  locate: Locator,
  already: Problem[],
): Problem[] {
  const reported = new Set(already.map((p) => p.path));
  const refused = (path: string[]) => path.some((_, i) => reported.has(path.slice(0, i + 1).join(".")));
  const problem = (path: string[], message: string): Problem => ({
    file,
    ...locate(path),
    path: path.join("."),
    message,
  });
  const out: Problem[] = [];
  // `key`: the key of the value; undefined for an element of an array
  const walk = (value: unknown, path: string[], key: string | undefined): void => {
    if (typeof value === "string") {
      const why = stringProblem(key, value);
      if (why && !refused(path)) out.push(problem(path, why));
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, String(i)], undefined));
    // a table; numbers, booleans and dates have no entries (TOML has no null)
    else for (const [k, v] of Object.entries(value as object)) walk(v, [...path, k], k);
  };
  walk(data, [], undefined);
  return schema === "agents" ? [...out, ...agentCollisions(data, problem)] : out;
}
