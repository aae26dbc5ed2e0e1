import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/session/config/schema.js";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";
import { startHeadlessSway, type HeadlessSway } from "../helpers/sway.js";
import { makeGeneration } from "../helpers/test-guest.js";

// The orderings that used to leave a VM in the wrong state, played on real headless sway with the real clan-vmd,
// clan-sessiond and QEMU test guest: each must converge to what focus and policy say.

const needs = ["sway", "qemu-system-x86_64", "dbus-daemon"];

describe.skipIf(!needs.every(hasBinary))(`clan-sessiond converges on sway ${skipReason(...needs)}`, () => {
  let sway: HeadlessSway;
  let stack: SessionStack;
  let ipc: IpcClient;
  let config: ConfigInput;

  beforeAll(async () => {
    sway = await startHeadlessSway();
    const generations = join(sway.runtimeDir, "generations");
    config = {
      networks: {
        family: {
          workspaces: ["2:family"],
          colour: "#2e7dbf",
          source: { profile: await makeGeneration(join(generations, "family"), { generation: "family-1", vm: { stateDiskMiB: 0 } }) },
        },
        club: {
          workspaces: ["3:club"],
          colour: "#b5462f",
          source: { profile: await makeGeneration(join(generations, "club"), { generation: "club-1", vm: { stateDiskMiB: 0 } }) },
          onLeave: { action: "stop", afterSeconds: 0 },
        },
      },
      switchDebounceMs: 100,
    };
    stack = await startSessionStack({ config, daemonEnv: { SWAYSOCK: sway.socketPath, XDG_RUNTIME_DIR: sway.runtimeDir } });
    ipc = await IpcClient.connect({ discover: () => sway.discoverSocket() });
  });

  afterAll(async () => {
    ipc?.close();
    await stack?.stop();
    await sway?.stop();
  });

  const focus = (workspace: string) => ipc.runCommand(`workspace ${workspace}`);
  const vmState = async (network: string) => (await stack.vms.list()).find((vm) => vm.network === network)?.state ?? "stopped";
  /** Asserts the VM stays in `state` for a while: converged, not passing through. */
  const staysIn = async (network: string, state: string) => {
    for (let i = 0; i < 10; i++) {
      expect(await vmState(network)).toBe(state);
      await sleep(100);
    }
  };

  for (const delayMs of [300, 2000]) {
    it(`left ${delayMs} ms into its boot, a network that pauses on leave ends paused, unfocused`, async () => {
      await focus("1");
      await stack.session.stop("family");
      await focus("2:family");
      await stack.waitForNetwork("family", (s) => s.vmState === "starting", 10_000);
      await sleep(delayMs);
      await focus("1");
      const family = await stack.waitForNetwork("family", (s) => s.vmState === "paused", 60_000);
      expect(family.focused).toBe(false);
      await staysIn("family", "paused");
    });
  }

  it("left while booting, a network that stops on leave ends stopped", async () => {
    await focus("3:club");
    await stack.waitForNetwork("club", (s) => s.vmState === "starting", 10_000);
    await sleep(300);
    await focus("1");
    await stack.waitForNetwork("club", (s) => s.vmState === "stopped", 60_000);
    await staysIn("club", "stopped");
  });

  it("coming back while its VM is stopping: it ends running", async () => {
    await focus("3:club");
    await stack.waitForNetwork("club", (s) => s.vmState === "running", 60_000);
    await focus("1");
    await stack.waitForNetwork("club", (s) => s.vmState === "stopping", 10_000);
    await focus("3:club");
    const club = await stack.waitForNetwork("club", (s) => s.vmState === "running", 60_000);
    expect(club.focused).toBe(true);
    await staysIn("club", "running");
  });

  it("coming back 110 to 190 ms after leaving, around the leave's pause (debounce 100 ms): it ends running each time", async () => {
    await focus("2:family");
    await stack.waitForNetwork("family", (s) => s.vmState === "running", 60_000);
    // club, left for family, stops by its policy: not part of what is measured here.
    await stack.waitForNetwork("club", (s) => s.vmState === "stopped", 30_000);
    const transitions: string[] = [];
    const unsubscribe = stack.vms.onStateChanged(
      (status) => transitions.push(`${status.network}:${status.state}`),
      (error) => transitions.push(`invalid:${error.message}`),
    );
    for (let awayMs = 110; awayMs <= 190; awayMs += 10) {
      await focus("1");
      await sleep(awayMs);
      await focus("2:family");
      // A pause that lands after the return is undone at once; give it that moment, then it must stay running.
      await sleep(500);
      const family = await stack.waitForNetwork("family", (s) => s.vmState === "running", 10_000);
      expect(family.focused).toBe(true);
      await staysIn("family", "running");
    }
    unsubscribe();
    // Every visit away outlasted the debounce, so pauses did land: each return had to undo one.
    expect(transitions.filter((t) => t === "family:paused").length).toBeGreaterThan(0);
    expect(transitions.filter((t) => /^family:(starting|stopping|stopped|failed)$/.test(t))).toEqual([]);
  });

  it("left while clan-vmd was restarting: the VM is stopped once clan-vmd is back", async () => {
    await focus("3:club");
    await stack.waitForNetwork("club", (s) => s.vmState === "running", 60_000);
    await stack.restartVmd(async () => {
      await stack.waitForNetwork("club", (s) => s.vmState === "unavailable", 10_000);
      await focus("1");
      await sleep(500);
    });
    await stack.waitForNetwork("club", (s) => s.vmState === "stopped" && !s.focused, 30_000);
    await staysIn("club", "stopped");
  });

  it("focused while clan-vmd was down: it says why it cannot start, and starts once clan-vmd is back", async () => {
    await stack.restartVmd(async () => {
      await stack.waitForNetwork("club", (s) => s.vmState === "unavailable", 10_000);
      await focus("3:club");
      await stack.waitForNetwork("club", (s) => s.error === "cannot start: clan-vmd is not running", 10_000);
    });
    const club = await stack.waitForNetwork("club", (s) => s.vmState === "running", 60_000);
    expect(club).toMatchObject({ focused: true, error: "" });
  });

  it("a network removed from the config while clan-sessiond was not running: its VM is stopped when it starts", async () => {
    await focus("2:family");
    await stack.waitForNetwork("family", (s) => s.vmState === "running", 60_000);
    const { family: _removed, ...rest } = config.networks;
    await stack.restartSessiond({}, () => stack.writeConfig({ ...config, networks: rest }));
    await waitUntil(async () => ((await vmState("family")) === "stopped" ? true : undefined), "family's VM to stop", 30_000);
    expect(stack.sessiond.output()).toMatch(/family: not in the config, so nothing would ever manage its VM: stopping it/);
    expect((await stack.session.listNetworks()).map((n) => n.name)).toEqual(["club"]);
    await stack.restartSessiond({}, () => stack.writeConfig(config));
  });
});
