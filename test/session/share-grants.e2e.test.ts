import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { clanctl } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";
import { makeGeneration } from "../helpers/test-guest.js";

// Grants through the whole session: the user's config.json grants, clan-sessiond passes them to clan-vmd with
// Start and publishes what the network's generation asks of the host; `clanctl status` shows it. The network's
// vm.json asks for the user's ~/.ssh: refused until the user grants it. Real clan-vmd, clan-sessiond, clanctl, QEMU.

/** An ordinary uid (no /etc/passwd entry needed) that owns the writable shared folder when the test runs as root. */
const SHARE_OWNER = 54_325;

const VIRTIOFSD = "/usr/lib/qemu/virtiofsd";
const needs = ["qemu-system-x86_64", "dbus-daemon", VIRTIOFSD];
// A host port of its own: other helpers' tests run beside this one.
const HOST_PORT = 20000 + (process.pid % 20000);

describe.skipIf(!needs.every(hasBinary))(`share grants in the session ${skipReason(...needs)}`, () => {
  let tmp: string;
  let home: string;
  let generation: string;
  let stack: SessionStack;

  const config = (grants: { path: string; readWrite?: boolean }[]): ConfigInput => ({
    networks: {
      family: { workspaces: ["3:family"], colour: "#ff8800", source: { profile: generation }, grants: { shares: grants }, onLeave: { action: "keep" } },
    },
  });

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), `clan-grants-session-${process.pid}-`));
    home = join(tmp, "home");
    await mkdir(join(home, ".ssh"), { recursive: true });
    await writeFile(join(home, ".ssh", "id_ed25519"), "PRIVATE KEY\n");
    await mkdir(join(home, "Sync"));
    if (process.geteuid?.() === 0) {
      // A root clan-vmd runs virtiofsd as a share's owner (never root), who must be able to reach it: an
      // ordinary uid owns the writable folder, and ~/.ssh, read-only and root's, is served as the VM's uid.
      await chmod(tmp, 0o711);
      await chown(join(home, "Sync"), SHARE_OWNER, SHARE_OWNER);
    }
    generation = await makeGeneration(join(tmp, "generation"), {
      generation: "family-1",
      vm: {
        stateDiskMiB: 0,
        shares: [
          { tag: "sync", source: join(home, "Sync") },
          { tag: "ssh", source: join(home, ".ssh"), readOnly: true },
        ],
        network: { mode: "user", forwards: [{ hostPort: HOST_PORT, guestPort: 80 }] },
      },
    });
    stack = await startSessionStack({ config: config([{ path: join(home, "Sync"), readWrite: true }]), daemonEnv: { XDG_STATE_HOME: join(tmp, "xdg-state") } });
  });

  afterAll(async () => {
    await stack?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it("clanctl status shows the generation's network mode, shares (granted or not) and forwards before it runs", async () => {
    await stack.waitForNetwork("family", (status) => status.networkMode === "user");
    const status = await clanctl(["status"], stack.env);
    expect(status.exitCode, status.all).toBe(0);
    expect(status.stdout).toContain(
      [
        "family reaches on this host:",
        "  network: user",
        `  share sync: ${join(home, "Sync")} (read-write, granted)`,
        `  share ssh: ${join(home, ".ssh")} (read-only, NOT granted: the VM will not start)`,
        `  forward: host port ${HOST_PORT} → guest port 80`,
      ].join("\n"),
    );
    const json = JSON.parse((await clanctl(["status", "--json"], stack.env)).stdout) as { networks: Record<string, unknown>[] };
    expect(json.networks[0]).toMatchObject({
      networkMode: "user",
      shares: [
        { tag: "sync", path: join(home, "Sync"), readWrite: true, granted: true },
        { tag: "ssh", path: join(home, ".ssh"), readWrite: false, granted: false },
      ],
      forwards: [{ hostPort: HOST_PORT, guestPort: 80 }],
    });
  });

  it("the session's start is refused by clan-vmd with the share named, while ~/.ssh is not granted", async () => {
    const start = await clanctl(["start", "family"], stack.env);
    expect(start.all).toContain(`share "ssh" of ${join(home, ".ssh")} is not granted`);
    expect(start.all).toContain("networks.family.grants.shares in config.json");
    expect((await stack.session.getNetwork("family")).vmState).not.toBe("running");
  });

  it("once the user grants it, the status says so and the VM boots with the grants the session passed", async () => {
    await stack.writeConfig(config([{ path: join(home, "Sync"), readWrite: true }, { path: join(home, ".ssh") }]));
    await stack.waitForNetwork("family", (status) => status.shares.every((share) => share.granted));
    const start = await clanctl(["start", "family"], stack.env);
    expect(start.exitCode, start.all).toBe(0);
    expect((await stack.session.getNetwork("family")).vmState).toBe("running");
    const status = await clanctl(["status"], stack.env);
    expect(status.stdout).toContain(`  share ssh: ${join(home, ".ssh")} (read-only, granted)`);
  });
});
