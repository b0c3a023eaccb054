// po validate on files written at run time and on the good cases, the registry verbs list and get,
// and the CLI's own surface (--version, --help, unknown verbs and options), through the real CLI.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  assertClean,
  BOM,
  escapeRegExp,
  fixture,
  HOME,
  lines,
  own,
  po,
  ROOT,
  valid,
  type JsonReport,
} from "./support/validate-corpus.js";

after(() => rmSync(HOME, { recursive: true, force: true }));

describe("files written at run time", () => {
  let dir: string;
  const P = (name: string, location: string, extra = "") =>
    `[projects.${name}]\nlocation = "${location}"\nharness = "ao"\nref = "v0.1.0"\n${extra}`;
  const HEAD = `version = 1\n[harnesses.ao]\nurl = "https://example.org/ao.git"\nup = ["up"]\ndown = ["down"]\n`;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "po-validate-"));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it("an empty file (zero bytes): version is missing, at line 1", () => {
    const file = join(dir, "empty.toml");
    writeFileSync(file, "");
    const r = po(["validate", file]);
    assert.equal(r.code, 1);
    assert.deepEqual(lines(r.stderr), [`${file}:1:1: missing required key 'version'`]);
    assert.equal(r.stdout, "");
  });

  it("a file starting with a UTF-8 byte-order mark, fleet or agents", () => {
    const fleet = join(dir, "bom.toml");
    writeFileSync(fleet, Buffer.concat([BOM, Buffer.from(HEAD)]));
    mkdirSync(join(dir, "bom"));
    const agents = join(dir, "bom", "agents.toml");
    writeFileSync(agents, Buffer.concat([BOM, Buffer.from('[agents.po]\ncommand = ["claude"]\n')]));
    for (const file of [fleet, agents]) {
      const r = po(["validate", file]);
      assert.equal(r.code, 1, file);
      assertClean(r, file);
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^${escapeRegExp(file)}:1:1: .*byte-order mark`));
    }
  });

  it("Windows line endings do not move the line reported", () => {
    const file = join(dir, "crlf.toml");
    const body = readFileSync(join(ROOT, fixture("typo-enabeld-line12.toml").rel), "utf8");
    writeFileSync(file, body.replace(/\n/g, "\r\n"));
    const r = po(["validate", file]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^${escapeRegExp(file)}:12:1: projects\\.alpha\\.enabeld: unknown key 'enabeld' \\(did you mean 'enabled'\\?\\)\\n$`,
      ),
    );
  });

  it("a very large file: 5000 good projects, then one error near the end at its exact line", () => {
    const file = join(dir, "large.toml");
    const parts = [HEAD];
    for (let i = 0; i < 5000; i++) parts.push(P(`p${i}`, `projects/p${i}`));
    const written = parts.join("").split("\n").length - 1; // lines written so far
    parts.push(P("last", "projects/last", "enabeld = true\n"));
    for (let i = 0; i < 3; i++) parts.push(P(`tail${i}`, `projects/tail${i}`));
    writeFileSync(file, parts.join(""));
    const bad = written + 5; // header, location, harness, ref, then the typo
    assert.equal(readFileSync(file, "utf8").split("\n")[bad - 1], "enabeld = true");
    const r = po(["validate", file]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(lines(r.stderr), [
      `${file}:${bad}:1: projects.last.enabeld: unknown key 'enabeld' (did you mean 'enabled'?)`,
    ]);

    // the same file without the typo is valid, and its 5000 projects are listed
    writeFileSync(file, parts.join("").replace("enabeld = true\n", ""));
    const ok = po(["list", "--json", "--fleet", file]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as unknown[]).length, 5004);
  });

  it("a shared location written two ways, and a project nested in another", () => {
    const file = join(dir, "locations.toml");
    writeFileSync(
      file,
      HEAD + P("alpha", "work/alpha") + P("beta", "./work/../work/alpha/") + P("gamma", `${dir}/work/alpha/gamma`),
    );
    const r = po(["validate", "--json", file]);
    assert.equal(r.code, 1);
    const problems = (JSON.parse(r.stdout) as JsonReport).files[0].problems;
    assert.deepEqual(
      problems.map((p) => [p.line, p.path]),
      [
        [11, "projects.beta.location"],
        [15, "projects.gamma.location"],
      ],
    );
    assert.match(problems[0].message, /same location as project 'alpha'/);
    assert.match(problems[1].message, /inside project 'alpha'.*cannot nest/);
  });
});

describe("the good cases", () => {
  it("this orchestrator's own fleet.toml and agents.toml exist", () => {
    for (const f of own) assert.ok(existsSync(join(ROOT, f)), `${f} is in the repository`);
  });

  it("every valid fixture and the repository's own files validate in one run: exit 0", () => {
    const files = [...valid, ...own];
    assert.ok(valid.length >= 6, "several good fixtures");
    const r = po(["validate", ...files]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assertClean(r, "valid run");
    assert.deepEqual(
      lines(r.stdout),
      files.map((f) => `${f}: valid ${f.endsWith("agents.toml") ? "agents" : "fleet"} file`),
    );
    const j = po(["validate", "--json", ...files]);
    assert.equal(j.code, 0, j.stdout);
    const report = JSON.parse(j.stdout) as JsonReport;
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.files.map((x) => [x.file, x.problems.length]),
      files.map((f) => [f, 0]),
    );
  });

  it("po validate with no file checks ./fleet.toml; po validate agents.toml the agents", () => {
    const r = po(["validate"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "fleet.toml: valid fleet file\n");
    const a = po(["validate", "agents.toml"]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, "agents.toml: valid agents file\n");
  });

  it("one bad file among good ones: exit 1, the good one still said valid", () => {
    const bad = fixture("ref-leading-dash.toml").rel;
    const r = po(["validate", "test/fixtures/valid/minimal.toml", bad]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "test/fixtures/valid/minimal.toml: valid fleet file\n");
    assert.match(r.stderr, /ref-leading-dash\.toml:11:\d+: projects\.alpha\.ref: invalid ref '-x'/);
  });
});

describe("po list and po get", () => {
  const full = "test/fixtures/valid/full.toml";

  it("po list --json lists the projects, normalized", () => {
    const r = po(["list", "--json", "--fleet", full]);
    assert.equal(r.code, 0, r.stderr);
    const projects = JSON.parse(r.stdout) as {
      name: string;
      enabled: boolean;
      harness: string;
      ref: string;
      location: string;
      url?: string;
    }[];
    assert.deepEqual(
      projects.map((p) => p.name),
      ["0-numbered", "alpha", "beta", "delta", "gamma"],
    );
    const by = Object.fromEntries(projects.map((p) => [p.name, p]));
    assert.equal(by.alpha.location, join(ROOT, "test", "fixtures", "alpha"));
    assert.equal(by.alpha.url, "https://example.org/me/alpha.git");
    assert.equal(by.beta.location, join(HOME, "fleet", "beta"));
    assert.equal(by.beta.enabled, false);
    assert.equal(by.gamma.harness, "local.h_2");
    assert.equal(by.delta.enabled, true, "enabled defaults to true");
  });

  it("po list --json on a fleet without projects: []", () => {
    const r = po(["list", "--json", "--fleet", "test/fixtures/valid/minimal.toml"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), []);
  });

  it("po list on an invalid fleet: exit 1, the located problem, no stack trace", () => {
    const f = fixture("typo-enabeld-line12.toml").rel;
    const r = po(["list", "--fleet", f]);
    assert.equal(r.code, 1);
    assertClean(r, "list");
    assert.match(r.stderr, /typo-enabeld-line12\.toml:12:1: projects\.alpha\.enabeld: unknown key 'enabeld'/);
  });

  it("po get NAME shows one project", () => {
    const r = po(["get", "alpha", "--json", "--fleet", full]);
    assert.equal(r.code, 0, r.stderr);
    const p = JSON.parse(r.stdout) as { name: string; ref: string; harness: { name: string; path: string } };
    assert.equal(p.name, "alpha");
    assert.equal(p.ref, "v0.1.0");
    assert.equal(p.harness.name, "agent-orchestrator");
  });

  it("po get with a typo suggests the closest name and exits 1", () => {
    const r = po(["get", "alpah", "--fleet", full]);
    assert.equal(r.code, 1);
    assertClean(r, "get");
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /'alpah'.*did you mean 'alpha'/);
    assert.equal(r.stdout, "");
  });
});

describe("the command line", () => {
  it("po validate of a missing file: exit 1, one clear line", () => {
    const r = po(["validate", "no/such/fleet.toml"]);
    assert.equal(r.code, 1);
    assertClean(r, "missing file");
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /^no\/such\/fleet\.toml: .*not found/);
    assert.equal(r.stdout, "");
  });

  it("po --version prints package.json's version", () => {
    const r = po(["--version"]);
    assert.equal(r.code, 0);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    assert.equal(r.stdout, `${pkg.version}\n`);
  });

  it("po --help and po validate --help exit 0", () => {
    const h = po(["--help"]);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: po VERB/m);
    assert.match(h.stdout, /validate/);
    const v = po(["validate", "--help"]);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^Usage: po validate/);
    assert.equal(v.stderr, "");
  });

  it("an unknown verb exits 1 with one line", () => {
    const r = po(["validat"]);
    assert.equal(r.code, 1);
    assertClean(r, "unknown verb");
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /unknown verb 'validat'.*did you mean 'validate'/);
  });

  it("an unknown option exits 1 with one line", () => {
    for (const args of [
      ["validate", "--strict"],
      ["list", "--bogus"],
    ]) {
      const r = po(args);
      assert.equal(r.code, 1, args.join(" "));
      assertClean(r, args.join(" "));
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`${args[1]}`));
    }
  });
});
