// The orchestrator's own agent gets its role: {prompt} and {prompt_text} reach the agent's argv
// whole, whatever the prompt's size (through po's launcher, never inside the tmux command); a
// program missing from PATH is refused before anything starts; prompts/orchestrator.md names only
// verbs and options that po VERB --help documents.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { promptArgv } from "../src/agents/launch.js";
import type { AgentSpec } from "../src/registry/agents-file.js";
import { makeWorld, until, writeFleet, type World } from "./support/world.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url)); // dist/test → the repository
const spec = (command: string[], prompt?: string): AgentSpec => ({ name: "po", command, watch: "none", prompt });

describe("promptArgv: the placeholders in an agent's command", () => {
  const read = (f: string) => `text of ${f} with {prompt} inside`;
  const table: [string, AgentSpec, string[]][] = [
    ["no placeholder: the command as it is", spec(["claude"], "/p/r.md"), ["claude"]],
    ["{prompt_text}: the file's text", spec(["c", "--x", "{prompt_text}"], "/p/r.md"), ["c", "--x", read("/p/r.md")]],
    [
      "{prompt}: its absolute path, inside an element",
      spec(["c", "--file={prompt}"], "/p/r.md"),
      ["c", "--file=/p/r.md"],
    ],
    ["both, once each, never expanded twice", spec(["{prompt}", "{prompt_text}"], "/q"), ["/q", read("/q")]],
  ];
  for (const [name, agent, want] of table) it(name, () => assert.deepEqual(promptArgv(agent, read), want));
  it("a placeholder without a prompt is an error", () => {
    assert.throws(() => promptArgv(spec(["c", "{prompt}"]), read), /command uses \{prompt\} but it has no prompt/);
  });
});

describe("po agents up hands the role to claude", () => {
  let w: World;
  let dir: string;
  let bin: string;
  let path: string;
  before(() => {
    w = makeWorld("po-role-");
    path = w.env.PATH ?? "";
    dir = join(w.root, "orch");
    mkdirSync(join(dir, "prompts"), { recursive: true });
    writeFileSync(join(dir, "agents.toml"), readFileSync(join(REPO, "agents.toml")));
    bin = join(w.root, "bin");
    mkdirSync(bin);
    // a claude that records its argv, NUL-separated, and then waits like the real one
    writeFileSync(
      join(bin, "claude"),
      // written whole, then renamed: the test waits for the file and must never read half of it
      `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done >"${join(w.root, "claude.tmp")}"\n` +
        `mv "${join(w.root, "claude.tmp")}" "${join(w.root, "claude.argv")}"\nexec sleep 3600\n`,
    );
    chmodSync(join(bin, "claude"), 0o755);
  });
  after(() => {
    w.env.PATH = path;
    w?.po(["agents", "down", "--dir", dir]);
    w?.cleanup();
  });

  const argvOfClaude = () => readFileSync(join(w.root, "claude.argv"), "utf8").split("\0").slice(0, -1);

  for (const [name, extra] of [
    ["the repository's prompt", 0],
    ["a prompt of 40 KB, more than tmux takes in a command", 700],
  ] as const) {
    it(`${name} arrives whole as the value of --append-system-prompt`, async () => {
      const rules = Array.from({ length: extra }, (_, i) => `- rule ${i}: act only through po, plan first (#${i}).\n`);
      const text = readFileSync(join(REPO, "prompts", "orchestrator.md"), "utf8") + rules.join("");
      writeFileSync(join(dir, "prompts", "orchestrator.md"), text);
      rmSync(join(w.root, "claude.argv"), { force: true });
      w.env.PATH = `${bin}${delimiter}${path}`;
      const r = w.po(["agents", "up", "--dir", dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "", "no warning: the command takes the prompt");
      await until(() => existsSync(join(w.root, "claude.argv")), 10_000, "claude to record its argv");
      assert.deepEqual(argvOfClaude(), ["--append-system-prompt", text]);
      assert.equal(w.po(["agents", "down", "--dir", dir]).code, 0);
    });
  }

  it("without claude on PATH: one line naming it, exit 1, no session started", () => {
    const bare = join(w.root, "bare");
    mkdirSync(bare);
    for (const t of ["node", "tmux", "sh", "sleep"])
      symlinkSync(execFileSync("sh", ["-c", `command -v ${t}`], { encoding: "utf8" }).trim(), join(bare, t));
    w.env.PATH = bare;
    const r = w.po(["agents", "up", "--dir", dir]);
    w.env.PATH = path;
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "po: claude: not found on PATH; install it, or set command in agents.toml\n");
    assert.deepEqual(w.sessions(), []);
    assert.equal(existsSync(join(dir, ".ao-state", "watchdog.pid")), false, "no watchdog either");
  });

  it("warns when an agent has a prompt its command never receives", () => {
    const other = join(w.root, "other");
    mkdirSync(other);
    writeFileSync(join(other, "role.md"), "a role\n");
    writeFileSync(join(other, "agents.toml"), '[agents.x]\ncommand = ["sleep", "3600"]\nprompt = "role.md"\n');
    const r = w.po(["agents", "up", "--dir", other]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr,
      "po: warning: agent x: its command never receives its prompt role.md (only PO_PROMPT_FILE in its " +
        "environment); put {prompt_text} or {prompt} in command\n",
    );
    assert.equal(w.po(["agents", "down", "--dir", other]).code, 0);
  });
});

describe("prompts/orchestrator.md teaches only what exists", () => {
  let w: World;
  before(() => (w = makeWorld("po-role-help-")));
  after(() => w?.cleanup());

  /** Every `po …` in a code span of the prompt: its verb and its options. */
  function commands(): { text: string; verb: string; options: string[] }[] {
    const md = readFileSync(join(REPO, "prompts", "orchestrator.md"), "utf8");
    return [...md.matchAll(/`(po [^`]*)`/g)].map(([, text]) => {
      const words = text.split(/\s+/).slice(1);
      return { text, verb: words[0], options: words.filter((x) => x.startsWith("-")) };
    });
  }

  it("names the flow: --json, --dry-run, a saved plan applied with --yes, the cause of a failure", () => {
    const all = commands().map((c) => c.text);
    for (const needle of [/--json/, /--dry-run/, /^po plan --out /, /^po apply \S+ --yes$/, /^po logs /])
      assert.ok(
        all.some((c) => needle.test(c)),
        `no command matching ${needle} in ${all.join(" | ")}`,
      );
  });

  it("every verb and option it shows is in po VERB --help", () => {
    const verbs = w.po(["--help"]).stdout;
    const missing: string[] = [];
    for (const c of commands()) {
      if (!new RegExp(`^  po ${c.verb}\\b`, "m").test(verbs)) {
        missing.push(`${c.text}: no verb ${c.verb}`);
        continue;
      }
      const help = w.po([c.verb, "--help"]).stdout;
      for (const o of c.options)
        if (!new RegExp(`(^|[\\s\\[|,])${o}(?![a-z-])`, "m").test(help))
          missing.push(`${c.text}: po ${c.verb} has no ${o}`);
    }
    assert.deepEqual([...new Set(missing)], []);
  });
});

describe("po create scaffolds an agent that receives its prompt", () => {
  let w: World;
  before(() => (w = makeWorld("po-role-create-")));
  after(() => w?.cleanup());
  it("agents.toml hands prompts/main.md to claude with --append-system-prompt", () => {
    writeFleet(w, {});
    const r = w.po(["create", "newp", "--ref", "v0.1.0", "--location", "newp"]);
    assert.equal(r.code, 0, r.stderr);
    const toml = w.git(join(w.root, "newp"), "show", "HEAD:agents.toml");
    assert.match(toml, /^command = \["claude", "--append-system-prompt", "\{prompt_text\}"\]/m);
    assert.match(toml, /^prompt = "prompts\/main.md"$/m);
  });
});
