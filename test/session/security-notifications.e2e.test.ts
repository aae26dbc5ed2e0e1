import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { waitUntil } from "../helpers/daemons.js";
import { startNotificationServer, type ShownNotification } from "../helpers/notification-server.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";
import { makeGeneration } from "../helpers/test-guest.js";

// Security decisions are visible. Any program of the user may call clan-vmd and clan-sessiond on the session bus;
// these tests are such a program: gdbus, as a script would use it, calls GuestExec and ReplaceStateDisk straight on
// clan-vmd and Restore on clan-sessiond, with real daemons, a real test-guest VM and real restic. The real
// notification server on the bus must be told each time, naming the network and what happened. (UnblockPeer,
// which needs a VPN between two homes, is checked the same way in test/vmd/vpn.e2e.test.ts.)

const needs = ["qemu-system-x86_64", "qemu-img", "restic", "dbus-daemon", "gdbus"];

describe.skipIf(!needs.every(hasBinary))(`security decisions raise notifications ${skipReason(...needs)}`, () => {
  let tmp: string;
  let stack: SessionStack;
  let notifications: { shown: ShownNotification[]; stop(): void };
  let repository: string;
  let passwordFile: string;

  const network = (backup: boolean): ConfigInput => ({
    networks: {
      family: {
        workspaces: ["2:family"],
        colour: "#2e7dbf",
        source: { profile: join(tmp, "generation") },
        ...(backup ? { backup: { repository, password: { file: passwordFile }, keep: { last: 10 } } } : {}),
      },
    },
  });
  /** A call as any program of the user's makes it: gdbus on the session bus, no clan-desktop code involved. */
  const gdbus = (daemon: "VMs1" | "Session1", method: string, ...args: string[]) =>
    execa(
      "gdbus",
      ["call", "--session", "--dest", `org.clan.Desktop.${daemon}`, "--object-path", `/org/clan/Desktop/${daemon}`, "--method", `org.clan.Desktop.${daemon}.Manager.${method}`, ...args],
      { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: stack.env.DBUS_SESSION_BUS_ADDRESS! }, reject: false, timeout: 180_000 },
    );
  const notification = (summary: string) =>
    waitUntil(() => notifications.shown.find((shown) => shown.summary === summary), `a notification "${summary}"`, 15_000);

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "clan-security-notices-"));
    repository = join(tmp, "repository");
    passwordFile = join(tmp, "password");
    await writeFile(passwordFile, `pw-${randomBytes(9).toString("hex")}\n`, { mode: 0o600 });
    await makeGeneration(join(tmp, "generation"), { generation: "family-1" });
    stack = await startSessionStack({ config: network(false), daemonEnv: { XDG_STATE_HOME: join(tmp, "xdg-state") } });
    notifications = await startNotificationServer(stack.env.DBUS_SESSION_BUS_ADDRESS!);
    await mkdir(join(stack.root, "state", "family"), { recursive: true });
    await execa("qemu-img", ["create", "-q", "-f", "qcow2", join(stack.root, "state", "family", "state.qcow2"), "8M"]);
    await stack.session.start("family");
    await stack.writeConfig(network(true));
    await stack.session.reloadConfig();
    // A network never backed up is backed up at once: the snapshot Restore brings back below.
    await stack.waitForNetwork("family", (s) => s.backupState === "ok" && s.vmState === "running", 120_000);
  }, 180_000);

  afterAll(async () => {
    notifications?.stop();
    await stack?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it("GuestExec called on clan-vmd tells the user which command ran as root in which network's guest", async () => {
    const marker = `probe-${randomBytes(4).toString("hex")}`;
    const result = await gdbus("VMs1", "GuestExec", "family", `['/bin/echo', '${marker}']`, "30");
    expect(result.stdout, result.stderr).toContain(marker);
    const shown = await notification("family: a command ran in the guest");
    expect(notifications.shown.find((n) => n.body.includes(marker))).toEqual({
      summary: "family: a command ran in the guest",
      body: `"/bin/echo ${marker}" ran as root in the guest (exit 0)`,
    });
    expect(shown.summary).toContain("family");
    expect(stack.vmd.output()).toContain(`family: guest-exec: "/bin/echo ${marker}" ran as root in the guest (exit 0)`);
  });

  it("Restore called on clan-sessiond tells the user which backup of which network is back, once", async () => {
    const before = notifications.shown.length;
    const result = await gdbus("Session1", "Restore", "family", "''");
    expect(result.exitCode, result.stderr).toBe(0);
    const restored = await notification("family: restored");
    expect(restored.body).toMatch(/^the state of \d{4}-\d\d-\d\dT[\d:.]+Z \(backup [0-9a-f]{8}\) is back$/);
    // The disk swap clan-vmd announces is this restore: it is not told a second time.
    expect(notifications.shown.slice(before).filter((n) => n.summary === "family: state disk replaced")).toEqual([]);
    await stack.waitForNetwork("family", (s) => s.vmState === "running", 60_000);
  }, 120_000);

  it("ReplaceStateDisk called straight on clan-vmd, bypassing clan-sessiond, still reaches the user", async () => {
    await stack.session.stop("family");
    const image = join(tmp, "replacement.qcow2");
    await execa("qemu-img", ["create", "-q", "-f", "qcow2", image, "8M"]);
    const result = await gdbus("VMs1", "ReplaceStateDisk", "family", image);
    expect(result.exitCode, result.stderr).toBe(0);
    const replaced = await notification("family: state disk replaced");
    expect(replaced.body).toBe(`its state disk was replaced by ${image}; the old one is kept as state.qcow2.previous`);
  });
});
