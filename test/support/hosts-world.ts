// A world with other hosts: the test's world (makeWorld) plus real sshd hosts on loopback
// (startHosts), a fleet.toml of projects here and on those hosts, and each host's tmux and state.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { harnessToml } from "../../src/sandbox/sandbox.js";
import { startHosts, type Hosts } from "./sshd.js";
import { CLI, makeProject, makeWorld, type World } from "./world.js";

export interface Placed {
  /** absent: this machine */
  host?: string;
  ref: string;
  enabled: boolean;
}

export interface HostsWorld {
  w: World;
  hosts: Hosts;
  /** po argv of each host, by name (default: this build of po, run by this node) */
  po: Record<string, string[]>;
  /** where project `name` lives: here/NAME, or NAME in its host's home (fleet.toml says ~/NAME) */
  dir(name: string): string;
  /** makes the project's repository (pinning `ref`) where `placed` says */
  make(name: string, host: string | undefined, ref: string): string;
  /** fleet.toml of these projects, all pinning harness h (whose `up` and `status` are these argv when given) */
  writeFleet(projects: Record<string, Placed>, argv?: Partial<Record<"up" | "status", string[]>>): string;
  /** live tmux sessions of `host` ("" for this machine), sorted */
  sessions(host: string): string[];
  dispose(): Promise<void>;
}

export async function hostsWorld(prefix: string, names = ["h1", "h2"]): Promise<HostsWorld> {
  const w = makeWorld(prefix);
  let hosts: Hosts | undefined;
  try {
    hosts = await startHosts(w.root, names, { gitConfig: w.env.GIT_CONFIG_GLOBAL! });
  } catch (e) {
    w.cleanup();
    throw e;
  }
  const h = hosts;
  // po's ssh finds the hosts through the wrapper; its control sockets stay in this world
  mkdirSync(join(w.root, "run"), { mode: 0o700 });
  Object.assign(w.env, h.withSsh(w.env), { XDG_RUNTIME_DIR: join(w.root, "run") });
  const where = new Map<string, string | undefined>();
  const po: Record<string, string[]> = Object.fromEntries(names.map((n) => [n, [process.execPath, CLI]]));
  // a remote project's ~/NAME is not a path here: only its host's po can find it
  const folder = (name: string) => {
    const host = where.get(name);
    return host ? join(`home-${host}`, name) : join("here", name);
  };
  const dir = (name: string) => join(w.root, folder(name));
  return {
    w,
    hosts: h,
    po,
    dir,
    make(name, host, ref) {
      where.set(name, host);
      mkdirSync(join(w.root, "here"), { recursive: true });
      return makeProject(w, folder(name), ref);
    },
    writeFleet(projects, argv = {}) {
      const hostTables = names.map((n) => `[hosts.${n}]\nssh = "${n}"\npo = ${JSON.stringify(po[n])}\n`);
      const body = Object.entries(projects).map(([n, p]) => {
        const at = p.host ? `host = "${p.host}"\nlocation = "~/${n}"` : `location = "here/${n}"`;
        return `[projects.${n}]\n${at}\nharness = "h"\nref = "${p.ref}"\nenabled = ${p.enabled}\n`;
      });
      const file = join(w.root, "fleet.toml");
      const harness = harnessToml("h", w.harnessUrl).replace(/^(up|status) = .*$/gm, (line, key: "up" | "status") =>
        argv[key] ? `${key} = ${JSON.stringify(argv[key])}` : line,
      );
      writeFileSync(file, ["version = 1\n", ...hostTables, harness, ...body].join("\n"));
      return file;
    },
    sessions(host) {
      const r = host ? h.onHost(host, ["tmux", "ls", "-F", "#{session_name}"]) : w.tmux("ls", "-F", "#{session_name}");
      return r.code === 0 ? r.stdout.split("\n").filter(Boolean).sort() : [];
    },
    async dispose() {
      await h.dispose();
      w.cleanup();
    },
  };
}
