import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { startNotificationServer, type ShownNotification } from "../helpers/notification-server.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";
import { makeGeneration } from "../helpers/test-guest.js";

// The real test guest writes terminal escapes to its console and, from a pre-backup hook, escapes and markup to
// stderr. What clan-sessiond publishes and clanctl prints (`clanctl status`, `clanctl backups`) carries none of
// their bytes, and the "backup failed" notification's body shows the markup as text.

const OSC52_ESCAPED = "\\x1b]52;c;aGFja2Vk\\x07";
const HOOK = ["/bin/sh", "-c", "printf '\\033]52;c;aGFja2Vk\\007\\033]0;pwned\\007<b>bold</b> & <a href=\"http://evil\">x</a>' >&2; exit 3"];

let tmp: string;
let stack: SessionStack;
let notifications: { shown: ShownNotification[]; stop(): void };

async function clanctlBytes(args: string[]): Promise<{ exitCode: number | undefined; bytes: Buffer }> {
  const result = await execa("node", [`${REPO}/bin/clanctl.js`, ...args], { env: { ...process.env, ...stack.env }, reject: false, encoding: "buffer", all: true });
  return { exitCode: result.exitCode, bytes: Buffer.from(result.all) };
}

function expectNoTerminalControls(bytes: Buffer): void {
  expect(bytes.includes(0x1b)).toBe(false);
  expect(bytes.includes(0x07)).toBe(false);
  expect(bytes.includes(0x0d)).toBe(false);
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "clan-guest-text-e2e-"));
  const passwordFile = join(tmp, "password");
  await writeFile(passwordFile, "guest-text-password\n", { mode: 0o600 });
  await makeGeneration(join(tmp, "generation"), { generation: "family-1", hostileConsole: true });
  const config: ConfigInput = {
    networks: {
      family: {
        workspaces: ["2:family"],
        colour: "#2e7dbf",
        source: { profile: join(tmp, "generation") },
        backup: { repository: join(tmp, "repository"), password: { file: passwordFile }, preBackupHooks: [HOOK] },
      },
    },
  };
  stack = await startSessionStack({ config, daemonEnv: { XDG_STATE_HOME: join(tmp, "xdg-state") } });
  // A server that reads markup in bodies, as mako and GNOME Shell do: there the hook's tags must arrive escaped.
    notifications = await startNotificationServer(stack.env.DBUS_SESSION_BUS_ADDRESS!, ["body", "body-markup"]);
  await stack.session.start("family");
  await stack.waitForNetwork("family", (s) => s.vmState === "running", 60_000);
});

afterAll(async () => {
  notifications?.stop();
  await stack?.stop();
  await rm(tmp, { recursive: true, force: true });
});

describe("guest text through clan-sessiond and clanctl", () => {
  it("shows a failing hook's escapes and markup as text in the notification and in clanctl backups", async () => {
    // The scheduler backs a never-saved network up at once (while it starts, which fails as Busy), so this may
    // meet its backup instead of running one.
    const backup = await clanctlBytes(["backup", "family"]);
    expect(backup.exitCode).not.toBe(0);
    expectNoTerminalControls(backup.bytes);
    if (backup.bytes.includes("pre-backup hook")) expect(backup.bytes.toString()).toContain(OSC52_ESCAPED);

    const failed = await waitUntil(
      () => notifications.shown.find((n) => n.summary === "family: backup failed" && n.body.includes("pre-backup hook")),
      "the notification of the hook's failure",
    );
    expect(failed.body).toContain(OSC52_ESCAPED);
    expect(failed.body).toContain('&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href="http://evil"&gt;x&lt;/a&gt;');
    expect(failed.body).not.toMatch(/[<>\u001b\u0007]/);

    const status = await clanctlBytes(["backups", "family"]);
    expect(status.exitCode).toBe(0);
    expectNoTerminalControls(status.bytes);
    expect(status.bytes.toString()).toContain(OSC52_ESCAPED);
  }, 120_000);

  it("shows the console tail of a VM that died escaped in clanctl status", async () => {
    await waitUntil(async () => (await stack.vms.consoleTail("family", 4096)).includes("hostile console:"), "the guest's escapes on its console");
    const { pid } = (await stack.vms.list()).find((vm) => vm.network === "family")!;
    process.kill(pid, "SIGKILL");
    const failed = await stack.waitForNetwork("family", (s) => s.vmState === "failed" && s.error !== "");
    expect(failed.error).toContain(OSC52_ESCAPED);

    const status = await clanctlBytes(["status"]);
    expect(status.exitCode).toBe(0);
    expectNoTerminalControls(status.bytes);
    const text = status.bytes.toString();
    expect(text).toContain(OSC52_ESCAPED);
    // One table row per network: the multi-line console tail is folded into the row, its line breaks escaped.
    const rows = text.split("\n").filter((line) => /^[ *]family\s/.test(line));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain(OSC52_ESCAPED);
  }, 60_000);
});
