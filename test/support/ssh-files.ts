// The files of a test's hosts (test/support/sshd.ts): their keys and the two OpenSSH configurations,
// the throwaway sshd's and the client's, each host an alias of 127.0.0.1 at its port. Nothing comes
// from /etc/ssh or ~/.ssh.
import { spawnSync } from "node:child_process";
import { copyFileSync } from "node:fs";
import { join } from "node:path";

function keygen(file: string, comment: string): void {
  const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], {
    stdio: ["ignore", "ignore", "pipe"],
    encoding: "utf8",
    timeout: 20_000,
  });
  if (r.status !== 0) throw new Error(`ssh-keygen ${file} failed: ${r.stderr || r.error?.message}`);
}

/** The hosts' key, the user's key, and that user key as the one authorized key. */
export function writeKeys(sshDir: string): void {
  keygen(join(sshDir, "host_ed25519"), "po-test-host");
  keygen(join(sshDir, "id_ed25519"), "po-test-user");
  copyFileSync(join(sshDir, "id_ed25519.pub"), join(sshDir, "authorized_keys"));
}

/** The sshd of every host: loopback only, one key, the test's environment accepted. */
export function sshdConfigText(sshDir: string, user: string): string {
  return [
    "# throwaway sshd of a po test: loopback only, one key, nothing from /etc/ssh or ~/.ssh",
    "ListenAddress 127.0.0.1",
    `HostKey ${join(sshDir, "host_ed25519")}`,
    `AuthorizedKeysFile ${join(sshDir, "authorized_keys")}`,
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password",
    `AllowUsers ${user}`,
    "StrictModes no",
    "UsePAM no",
    "UseDNS no",
    "PermitUserRC no",
    "PrintMotd no",
    "PrintLastLog no",
    "X11Forwarding no",
    "MaxStartups 100",
    "MaxSessions 100",
    "AcceptEnv TMUX_TMPDIR PO_* GIT_CONFIG_GLOBAL GIT_CONFIG_NOSYSTEM XDG_STATE_HOME NO_COLOR",
    "LogLevel VERBOSE",
    "",
  ].join("\n");
}

/** The client config: one Host per name at its port, BatchMode, host keys checked against known_hosts. */
export function clientConfigText(sshDir: string, user: string, ports: Map<string, number>): string {
  return [
    '# ssh config of a po test: each Host is one "machine" (its own sshd, tmux server and po state)',
    ...[...ports].map(([n, port]) => `Host ${n}\n  HostName 127.0.0.1\n  Port ${port}`),
    "Host *",
    `  User ${user}`,
    `  IdentityFile ${join(sshDir, "id_ed25519")}`,
    "  IdentitiesOnly yes",
    "  IdentityAgent none",
    `  UserKnownHostsFile ${join(sshDir, "known_hosts")}`,
    "  GlobalKnownHostsFile /dev/null",
    "  StrictHostKeyChecking yes",
    "  UpdateHostKeys no",
    "  BatchMode yes",
    "  ConnectTimeout 10",
    "",
  ].join("\n");
}
