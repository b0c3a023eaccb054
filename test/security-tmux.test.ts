// Security, names reach tmux as data: a folder whose name holds a tmux format (`#(…)`, `#{…}`)
// starts its agent under that very name and runs nothing; two folders whose names tmux makes equal
// ('a.b' and 'a:b' both give 'a_b') never start, stop or heal each other's agents. Real tmux
// (isolated server), real po processes; a marker file appears if anything runs.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeWorld, panePid, until, type World } from "./support/world.js";

let w: World;

before(() => {
  w = makeWorld("po-sec-tmux-");
});

after(() => w?.cleanup());

function folder(name: string): string {
  const dir = join(w.root, "f", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "agents.toml"), '[agents.a]\ncommand = ["sleep", "3600"]\n');
  return dir;
}

/** Every file named MARK anywhere under the world (its home, its folders, the tmux server's cwd). */
function marks(dir = w.root): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.split("/").pop() === "MARK");
}

const sessionPaths = () =>
  w.tmux("list-sessions", "-F", "#{session_name}|#{session_path}").stdout.split("\n").filter(Boolean).sort();

for (const name of ["p#(touch MARK)", "q#{session_name}#(touch MARK)", "r##(touch MARK)"]) {
  test(`po agents up in a folder named ${name} starts the agent under that name and runs nothing`, () => {
    const dir = folder(name);
    const up = w.po(["agents", "up"], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stdout.split("\n")[0], `started ${name}-a`);
    assert.deepEqual(sessionPaths(), [`${name}-a|${dir}`]);
    // one JSON line per agent, in the harness status format
    const status = w
      .po(["agents", "status", "--json"], { cwd: dir })
      .stdout.split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { session: string; live: boolean });
    assert.deepEqual(
      status.map((a) => [a.session, a.live]),
      [[`${name}-a`, true]],
    );
    const down = w.po(["agents", "down"], { cwd: dir });
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(w.sessions(), []);
    assert.deepEqual(marks(), []);
  });
}

test("folders a.b and a:b: the second is refused in one line and never stops the first's agent", () => {
  const ab = folder("a.b");
  const colon = folder("a:b");
  assert.equal(w.po(["agents", "up"], { cwd: ab }).code, 0);
  assert.deepEqual(w.sessions(), ["a_b-a"]);
  const pid = panePid(w, "a_b-a");
  for (const verb of ["up", "down"]) {
    const r = w.po(["agents", verb], { cwd: colon });
    assert.equal(r.code, 1, `agents ${verb} in a:b`);
    assert.equal(
      r.stderr,
      `po: tmux session 'a_b-a' belongs to the folder ${ab}, not ${colon}: their names give the same session ` +
        "('.' and ':' become '_'); rename one folder, nothing was started or stopped\n",
    );
    assert.equal(panePid(w, "a_b-a"), pid, `agents ${verb} in a:b left a.b's agent alone`);
  }
  assert.equal(w.po(["agents", "down"], { cwd: ab }).code, 0);
  assert.deepEqual(w.sessions(), []);
  // and now that the session is free, a:b may start its own
  assert.equal(w.po(["agents", "up"], { cwd: colon }).code, 0);
  assert.deepEqual(sessionPaths(), [`a_b-a|${colon}`]);
  assert.equal(w.po(["agents", "down"], { cwd: colon }).code, 0);
});

test("a folder and a prompt path with spaces and ';' (even at the end) start the agent with its prompt", async () => {
  const dir = folder("x; y;");
  mkdirSync(join(dir, "my prompts"));
  writeFileSync(join(dir, "my prompts", "a; b;"), "the prompt\n");
  const command = ["sh", "-c", 'cat "$PO_PROMPT_FILE" > got; exec sleep 3600'];
  writeFileSync(
    join(dir, "agents.toml"),
    `[agents.a]\ncommand = ${JSON.stringify(command)}\nprompt = "my prompts/a; b;"\n`,
  );
  const up = w.po(["agents", "up"], { cwd: dir });
  assert.equal(up.code, 0, up.stderr);
  assert.deepEqual(sessionPaths(), [`x; y;-a|${dir}`]);
  const got = () => (existsSync(join(dir, "got")) ? readFileSync(join(dir, "got"), "utf8") : "");
  await until(() => got() === "the prompt\n", 10_000, "the agent to copy its prompt file");
  assert.equal(w.po(["agents", "down"], { cwd: dir }).code, 0);
  assert.deepEqual(w.sessions(), []);
});
