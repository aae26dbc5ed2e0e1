import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clanctl } from "../helpers/daemons.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";
import { makeGeneration } from "../helpers/test-guest.js";

// clanctl status|start|stop|pause|switch talk to the real clan-sessiond through their own small D-Bus client
// (src/cli/wire/): what they read must be what dbus-next and zod read from the same daemon, and the daemon's
// errors must arrive as the same messages.

describe("clanctl's one-shot commands over their own D-Bus client", () => {
  let tmp: string;
  let stack: SessionStack;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), `clan-session-wire-${process.pid}-`));
    const generation = await makeGeneration(join(tmp, "family"), {
      generation: "family-1",
      vm: {
        stateDiskMiB: 0,
        shares: [{ tag: "sync", source: join(tmp, "Sync") }],
        network: { mode: "user", forwards: [{ hostPort: 18_093, guestPort: 80 }] },
      },
    });
    await mkdir(join(tmp, "Sync"));
    await mkdir(join(tmp, "empty"));
    stack = await startSessionStack({
      config: {
        networks: {
          family: { workspaces: ["2:family"], colour: "#2e7dbf", label: "Familie «Müller»", source: { profile: generation } },
          club: { workspaces: ["3:club", "4"], colour: "#b5462f", source: { profile: join(tmp, "empty") } },
        },
      },
      daemonEnv: {},
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it("status --json shows what dbus-next and zod read from the same clan-sessiond", async () => {
    await stack.waitForNetwork("family", (status) => status.networkMode === "user");
    const result = await clanctl(["status", "--json"], stack.env);
    expect(result.exitCode, result.all).toBe(0);
    const printed = JSON.parse(result.stdout) as { networks: unknown[]; configError: string; backend: string };
    expect(printed.networks).toEqual(await stack.session.listNetworks());
    expect(printed.networks).toHaveLength(2);
    // The nested dictionaries and the non-ASCII label are part of what was compared.
    expect(printed.networks).toContainEqual(
      expect.objectContaining({ label: "Familie «Müller»", shares: [expect.objectContaining({ tag: "sync" })], forwards: [{ hostPort: 18_093, guestPort: 80 }] }),
    );
    expect(printed.configError).toBe(await stack.session.configError());
    expect(printed.backend).toBe(await stack.session.backend());
  });

  it("stop answers with the network's state, and a daemon's error by its message, exit 1", async () => {
    const stopped = await clanctl(["stop", "club"], stack.env);
    expect(stopped.exitCode, stopped.all).toBe(0);
    expect(stopped.stdout).toBe("club: stopped");
    const unknown = await clanctl(["stop", "nosuchnet"], stack.env);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toBe('clanctl: no network named "nosuchnet" in the config');
  });

  it("says that clan-sessiond is not running when its name has no owner", async () => {
    await stack.restartSessiond({}, async () => {
      const result = await clanctl(["status"], stack.env);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe("clanctl: clan-sessiond is not running on this session bus (org.clan.Desktop.Session1)");
    });
  });
});
