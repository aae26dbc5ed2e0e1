import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VmStatus } from "../../src/shared/vm-api.js";
import { isAlive } from "../../src/vmd/qemu-process.js";
import { clanctl, REPO, waitUntil } from "../helpers/daemons.js";
import { startVmdStack, type VmdStack } from "../helpers/vmd-stack.js";
import { makeGeneration, type GenerationOptions } from "../helpers/test-guest.js";

// The real test guest in QEMU plays the attacker against the real clan-vmd: it floods the control port with
// what once crashed the daemon, and writes terminal escapes to its console for `clanctl vm log` to show.

let stack: VmdStack;
let root: string;
let env: Record<string, string>;
const seen: VmStatus[] = [];

const ESC = 0x1b;
const BEL = 0x07;

async function profile(network: string, options: Omit<GenerationOptions, "generation">) {
  const generationDir = await makeGeneration(join(root, "store", `${network}-gen`), { generation: `${network}-gen`, ...options });
  const profiles = join(root, "profiles");
  await mkdir(profiles, { recursive: true });
  await symlink(generationDir, join(profiles, `${network}-1-link`));
  await symlink(`${network}-1-link`, join(profiles, network));
  return join(profiles, network);
}

/** clanctl's stdout as the bytes a terminal would receive. */
async function clanctlBytes(args: string[]): Promise<Buffer> {
  const result = await execa("node", [`${REPO}/bin/clanctl.js`, ...args], { env: { ...process.env, ...env }, reject: false, encoding: "buffer" });
  expect(result.exitCode).toBe(0);
  return Buffer.from(result.stdout);
}

function expectNoTerminalControls(bytes: Buffer): void {
  expect(bytes.includes(ESC)).toBe(false);
  expect(bytes.includes(BEL)).toBe(false);
  // C1 CSI as UTF-8, and the right-to-left override.
  expect(bytes.includes(Buffer.from("\u009b"))).toBe(false);
  expect(bytes.includes(Buffer.from("\u202e"))).toBe(false);
}

beforeAll(async () => {
  stack = await startVmdStack({
    tmpPrefix: "clan-hostile-guest-e2e-",
    powerdownTimeoutSeconds: 2,
    onConnect: (api) =>
      api.onStateChanged((status) => seen.push(status), (error) => {
        throw error;
      }),
  });
  ({ root, env } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

describe("a hostile guest against clan-vmd", () => {
  it("cannot crash clan-vmd with a 5,000-deep JSON line, a huge line, invalid UTF-8 and a flood on the control port", async () => {
    const hostile = await profile("hostile", { hostileControl: true });
    const started = await clanctl(["vm", "start", "hostile", "--profile", hostile], env);
    expect(started.all).toBe("hostile: running");
    // The guest sends its attack before and after its ready line; the second round lands while it runs.
    const summary = await stack.vmd.waitForOutput(/hostile: guest: \d+ more bad control-port messages suppressed in the last 10 s/, 60_000);
    expect(Number(/(\d+) more/.exec(summary)![1])).toBeGreaterThan(1000);

    const output = stack.vmd.output();
    expect(stack.vmd.process.exitCode).toBeNull();
    expect(output).not.toMatch(/RangeError|Maximum call stack/);
    expect(output).toContain("hostile: guest: unexpected control-port message: [[[[[…]]]]]");
    expect(output).toMatch(/hostile: guest: line longer than 65536 bytes dropped \(1 so far\)/);
    // The line with an OSC 52 escape is logged escaped; no raw ESC reaches the daemon's log.
    expect(output).toContain("\\x1b]52;c;aGk=\\x07");
    expect(output.includes("\u001b")).toBe(false);
    // A flood is rate-limited: at most one window's burst of the guest's lines is logged per round.
    expect(output.match(/hostile: guest: /g)!.length).toBeLessThanOrEqual(2 * 20);
  });

  it("still supervises the attacker's VM and starts another one afterwards", async () => {
    expect((await clanctl(["vm", "pause", "hostile"], env)).stdout).toBe("hostile: paused");
    expect((await clanctl(["vm", "resume", "hostile"], env)).stdout).toBe("hostile: running");
    const bystander = await profile("bystander", { vm: { stateDiskMiB: 0 } });
    expect((await stack.api.start("bystander", bystander)).state).toBe("running");
    const pid = (await stack.api.list()).find((s) => s.network === "hostile")!.pid;
    expect((await stack.api.stop("hostile")).state).toBe("stopped");
    expect(isAlive(pid)).toBe(false);
    expect((await stack.api.stop("bystander")).state).toBe("stopped");
    expect(stack.vmd.process.exitCode).toBeNull();
  });

  it("shows the escapes a guest writes to its console as text in clanctl vm log and in the failure it causes", async () => {
    const consoleProfile = await profile("console", { hostileConsole: true, vm: { stateDiskMiB: 0 } });
    const started = await stack.api.start("console", consoleProfile);
    expect(started.state).toBe("running");

    const log = await clanctlBytes(["vm", "log", "console"]);
    expectNoTerminalControls(log);
    const text = log.toString("utf8");
    expect(text).toContain("hostile console: \\x1b]52;c;aGFja2Vk\\x07\\x1b]0;pwned-title\\x07\\x1b[2J\\x1b[H");
    expect(text).toContain("\\u202eevil");
    expect(text).toContain("clan test guest console-gen ready");

    // A QEMU that dies puts the console tail into the VM's error: clients get it escaped too.
    seen.length = 0;
    process.kill(started.pid, "SIGKILL");
    const failed = await waitUntil(() => seen.find((s) => s.network === "console" && s.state === "failed"), "failed state", 10_000);
    expect(failed.error).toContain("\\x1b]52;c;aGFja2Vk\\x07");
    expect(failed.error.includes("\u001b")).toBe(false);
    expect(stack.vmd.output()).toContain("console: failed: QEMU exited unexpectedly; console tail:");
    expect(stack.vmd.output().includes("\u001b")).toBe(false);
  });
});
