// Security, secrets stay private: with umask 022 and urls holding a password, po apply leaves no
// file under .ao-state/ (the fleet's, and the agents runtime's in a project) that holds the password
// or that anyone but the operator can read; the password is never printed either. Real git, real
// tmux (isolated), the real harness (po agents), real po processes.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { harnessToml } from "../src/sandbox/sandbox.js";
import { redactDeep, redactUrl } from "../src/common/redact.js";
import { makeProject, makeWorld, type World } from "./support/world.js";

const PASSWORD = "S3cr3tPassw0rd";
let w: World;
let umask: number;

before(() => {
  umask = process.umask(0o022); // po's children inherit it
  w = makeWorld("po-sec-secret-");
  makeProject(w, "p", "v0.1.0");
  // an .ao-state left by an older po, readable by all
  mkdirSync(join(w.root, ".ao-state"), { mode: 0o755 });
  writeFileSync(join(w.root, ".ao-state", "journal.jsonl"), "", { mode: 0o644 });
  chmodSync(join(w.root, ".ao-state"), 0o755);
  // The harness url is never needed (v0.1.0 is a tag the submodule has); project q must be cloned
  // from a url nobody answers, so its failure, with the url, goes to the journal and the terminal.
  const harness = harnessToml("h", `https://deploy:${PASSWORD}@127.0.0.1:9/harness.git`);
  const projects =
    `[projects.p]\nlocation = "p"\nharness = "h"\nref = "v0.1.0"\n\n` +
    `[projects.q]\nlocation = "q"\nharness = "h"\nref = "v0.1.0"\n` +
    `url = "https://x-access-token:${PASSWORD}@127.0.0.1:9/q.git"\n`;
  writeFileSync(join(w.root, "fleet.toml"), `version = 1\n\n${harness}\n${projects}`);
});

after(() => {
  w?.po(["agents", "down", "--dir", join(w.root, "p")]);
  w?.cleanup();
  process.umask(umask);
});

function tree(dir: string): string[] {
  return [dir, ...readdirSync(dir, { recursive: true, encoding: "utf8" }).map((f) => join(dir, f))];
}

test("after po apply --yes, nothing under .ao-state/ holds the password or is readable by others", () => {
  const plan = w.po(["plan", "--out", join(w.root, "saved.json")]);
  const apply = w.po(["apply", "--yes"]);
  assert.equal(apply.code, 1, "q cannot be cloned");
  assert.match(apply.stdout + apply.stderr, /q: clone FAILED .*https:\/\/\*\*\*@127\.0\.0\.1:9\/q\.git/);
  assert.deepEqual(w.sessions(), ["p-a"], "p was started");
  const list = w.po(["list", "--json"]);
  const get = w.po(["get", "q"]);
  assert.match(get.stdout, /^url {7}https:\/\/\*\*\*@127\.0\.0\.1:9\/q\.git$/m);
  assert.match(get.stdout, /^harness {3}h \(https:\/\/\*\*\*@127\.0\.0\.1:9\/harness\.git\) at engine\/$/m);
  for (const r of [plan, apply, list, get]) assert.ok(!(r.stdout + r.stderr).includes(PASSWORD), r.stdout + r.stderr);
  assert.ok(!readFileSync(join(w.root, "saved.json"), "utf8").includes(PASSWORD), "the saved plan");

  const files = [...tree(join(w.root, ".ao-state")), ...tree(join(w.root, "p", ".ao-state"))];
  assert.ok(files.some((f) => f.endsWith("journal.jsonl")) && files.some((f) => f.endsWith("a.log")));
  for (const f of files) {
    const info = statSync(f);
    assert.equal(info.mode & 0o777, info.isDirectory() ? 0o700 : 0o600, `mode of ${f}`);
    if (info.isFile()) assert.ok(!readFileSync(f, "utf8").includes(PASSWORD), `${f} holds the password`);
  }
  for (const dir of [w.root, join(w.root, "p")])
    assert.equal(readFileSync(join(dir, ".ao-state", ".gitignore"), "utf8"), "*\n");
  // the journal still says what failed, with the url's credentials hidden
  assert.match(
    readFileSync(join(w.root, ".ao-state", "journal.jsonl"), "utf8"),
    /https:\/\/\*\*\*@127\.0\.0\.1:9\/q\.git/,
  );
});

test("a fleet repository never commits .ao-state/: git sees nothing of it", () => {
  w.git(w.root, "init", "-q");
  assert.equal(w.git(w.root, "status", "--porcelain", "--untracked-files=all", "--", ".ao-state"), "");
});

test("redactUrl hides the credentials of every url in a text, and nothing else", () => {
  const cases: [string, string][] = [
    ["https://deploy:TOKEN@host/x.git", "https://***@host/x.git"],
    ["https://TOKEN@github.com/x", "https://***@github.com/x"],
    ["http://u:p@ss@host:8080/x", "http://***@host:8080/x"],
    ["fatal: repository 'https://u:p@h/x/' not found", "fatal: repository 'https://***@h/x/' not found"],
    ['{"url":"https://u:p@h","to":"a@b"}', '{"url":"https://***@h","to":"a@b"}'],
    ["ssh://u:pw@h/x", "ssh://***@h/x"],
    ["ssh://git@h/x and git@h:x", "ssh://git@h/x and git@h:x"],
    ["https://host/path@v1 and mail@example.com", "https://host/path@v1 and mail@example.com"],
  ];
  for (const [text, shown] of cases) assert.equal(redactUrl(text), shown);
  const data = { a: ["https://u:p@h/x"], constructor: "https://t@h", n: 1 };
  assert.deepEqual(redactDeep(data), { a: ["https://***@h/x"], constructor: "https://***@h", n: 1 });
});
