// A fleet of running projects on a harness whose behaviour depends on the pinned release
// (engine/VERSION): 0.3.0's agents run until the test creates the file `release` (then their
// sessions end, inside a health gate), 0.4.0's `up` fails, any other release runs `sleep 3600`.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeWorld, type World } from "./world.js";

const AGENTS_SH = `#!/bin/sh
# harness contract: run in the project root; sessions are named {dir}-{agent}
dir=$(basename "$PWD")
agents=$(sed -n 's/^\\[agents\\.\\([A-Za-z0-9_-]*\\)\\][[:space:]]*$/\\1/p' agents.toml)
case "$(cat engine/VERSION)" in
  0.3.0) agent="touch '$PWD/../started-$dir'; until [ -e '$PWD/../release' ]; do sleep 0.1; done" ;;
  0.4.0) [ "$1" = up ] && { echo "harness 0.4.0: cannot start" >&2; exit 3; } ;;
  *)     agent="sleep 3600" ;;
esac
case "$1" in
  up)   for a in $agents; do
          tmux has-session -t "=$dir-$a" 2>/dev/null || tmux new-session -d -s "$dir-$a" "$agent"
        done ;;
  down) for a in $agents; do tmux kill-session -t "=$dir-$a" 2>/dev/null; done; true ;;
esac
`;

export interface RolloutWorld {
  w: World;
  /** the harness repository */
  H: string;
  fleet: string;
  /** commits VERSION = v and tags it (`tag` are git tag's arguments) */
  release(v: string, tag: string[]): void;
  sha(dir: string, rev: string): string;
  /** the commit project p pins in HEAD */
  pin(p: string): string | undefined;
  /** the creation time (whole seconds) of p's session */
  created(p: string): number;
}

/** The harness at v0.1.0 (annotated) and v0.2.0, and `projects` at v0.1.0, applied and running. */
export function makeRolloutWorld(projects: string[]): RolloutWorld {
  const w = makeWorld();
  const H = join(w.root, "rh");
  const sha = (dir: string, rev: string) => w.git(dir, "rev-parse", rev).trim();
  const release = (v: string, tag: string[]) => {
    writeFileSync(join(H, "VERSION"), `${v}\n`);
    w.git(H, "add", ".");
    w.git(H, "commit", "-qm", `harness ${v}`);
    w.git(H, "tag", ...tag);
  };
  mkdirSync(H);
  w.git(H, "init", "-q");
  writeFileSync(join(H, "agents.sh"), AGENTS_SH, { mode: 0o755 });
  release("0.1.0", ["-a", "v0.1.0", "-m", "v0.1.0"]);
  release("0.2.0", ["v0.2.0"]);
  let toml = `# the fleet\nversion = 1\n\n[harnesses.rh]\nurl = "${H}"\nup = ["sh", "engine/agents.sh", "up"]\n`;
  toml += `down = ["sh", "engine/agents.sh", "down"]\ntimeout_s = 30\n`;
  for (const p of projects) {
    const dir = join(w.root, p);
    mkdirSync(dir);
    w.git(dir, "init", "-q");
    w.git(dir, "submodule", "add", "-q", H, "engine");
    w.git(join(dir, "engine"), "checkout", "-q", "v0.1.0");
    writeFileSync(join(dir, "agents.toml"), `[agents.main]\ncommand = ["sleep", "3600"]\n`);
    w.git(dir, "add", ".");
    w.git(dir, "commit", "-qm", `project ${p}`);
    toml += `\n[projects.${p}]\nlocation = "${p}"\nharness = "rh"\nref = "v0.1.0"\n`;
  }
  const fleet = join(w.root, "fleet.toml");
  writeFileSync(fleet, toml);
  const r = w.po(["apply", "--yes"]);
  if (r.code !== 0) {
    w.cleanup();
    throw new Error(`fixture apply failed: ${r.stdout}${r.stderr}`);
  }
  return {
    w,
    H,
    fleet,
    release,
    sha,
    pin: (p) => /160000 commit ([0-9a-f]{40})/.exec(w.git(join(w.root, p), "ls-tree", "HEAD", "engine"))?.[1],
    created: (p) => Number(w.tmux("display-message", "-p", "-t", `=${p}-main:`, "#{session_created}").stdout),
  };
}
