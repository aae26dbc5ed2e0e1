import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { createDefaultSocketDiscovery, discoverWindowManager, findLiveSwaySocket } from "../../src/sway/ipc/socket-discovery.js";
import { startI3UnderXvfb, type I3UnderXvfb } from "../helpers/i3.js";
import { skipReason, within } from "../helpers/processes.js";
import { startHeadlessSway, type HeadlessSway } from "../helpers/sway.js";

// Finding the socket the way a session daemon must: from an inherited SWAYSOCK that a sway restart made stale,
// from the runtime dir, and from i3's X root window property.

const swaySkip = skipReason("sway", "setpriv");
const i3Skip = skipReason("i3", "Xvfb");

describe.skipIf(swaySkip !== "")(`socket discovery on real sway${swaySkip}`, () => {
  let sway: HeadlessSway;
  let deadSwaysSocket: Server;

  beforeAll(async () => {
    sway = await startHeadlessSway();
    // A socket left behind by a sway that no longer runs (pid 2^22 + 1 is above Linux's pid_max limit).
    deadSwaysSocket = createServer();
    await new Promise<void>((resolve) => deadSwaysSocket.listen(join(sway.runtimeDir, `sway-ipc.${sway.uid}.4194305.sock`), resolve));
  });
  afterAll(async () => {
    deadSwaysSocket?.close();
    await sway?.stop();
  });

  it("takes SWAYSOCK when a socket is there", async () => {
    expect(await createDefaultSocketDiscovery({ env: { SWAYSOCK: sway.socketPath } })()).toBe(sway.socketPath);
  });

  it("finds only the live sway's socket in the runtime dir", async () => {
    expect(await findLiveSwaySocket(sway.runtimeDir, sway.uid)).toBe(sway.socketPath);
  });

  it("names sway as the window manager found in the runtime dir, with no SWAYSOCK imported", async () => {
    expect(await discoverWindowManager({ env: { XDG_RUNTIME_DIR: sway.runtimeDir }, uid: sway.uid })).toEqual({ kind: "sway", path: sway.socketPath });
  });

  it("follows a restarted sway although the inherited SWAYSOCK names the old socket", async () => {
    const inheritedSwaysock = sway.socketPath;
    const discover = createDefaultSocketDiscovery({ env: { SWAYSOCK: inheritedSwaysock, XDG_RUNTIME_DIR: sway.runtimeDir }, uid: sway.uid });
    const client = await IpcClient.connect({ discover, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
    try {
      const reconnected = new Promise<string>((resolve) => client.once("reconnected", resolve));
      await sway.restart();
      expect(await within(reconnected, 5000, "the client to reconnect to the new sway")).toBe(sway.socketPath);
      expect(sway.socketPath).not.toBe(inheritedSwaysock);
      expect((await client.getVersion()).variant).toBe("sway");
    } finally {
      client.close();
    }
  });
});

describe.skipIf(i3Skip !== "")(`socket discovery on real i3${i3Skip}`, () => {
  let i3: I3UnderXvfb;

  beforeAll(async () => {
    i3 = await startI3UnderXvfb();
  });
  afterAll(async () => {
    await i3?.stop();
  });

  it("asks `i3 --get-socketpath`, which reads the X root window, before and after a new i3 process", async () => {
    const discover = createDefaultSocketDiscovery({ env: { DISPLAY: i3.display, PATH: process.env["PATH"] } });
    expect(await discover()).toBe(i3.socketPath);
    await i3.restart("new-process");
    expect(await discover()).toBe(i3.socketPath);
  });
});

describe.skipIf(i3Skip !== "")(`socket discovery of i3's default socket${i3Skip}`, () => {
  let runtimeDir: string;
  let i3: I3UnderXvfb;

  beforeAll(async () => {
    runtimeDir = await mkdtemp(join(tmpdir(), "clan-i3-runtime-"));
    i3 = await startI3UnderXvfb({ runtimeDir });
  });
  afterAll(async () => {
    await i3?.stop();
    await rm(runtimeDir, { recursive: true, force: true });
  });

  it("finds XDG_RUNTIME_DIR/i3/ipc-socket.<pid> with neither I3SOCK nor DISPLAY, and follows a new i3 process", async () => {
    const env = { XDG_RUNTIME_DIR: runtimeDir, PATH: process.env["PATH"] };
    expect(i3.socketPath).toBe(join(runtimeDir, "i3", `ipc-socket.${i3.pid}`));
    expect(await discoverWindowManager({ env })).toEqual({ kind: "i3", path: i3.socketPath });
    await i3.restart("new-process");
    expect(await discoverWindowManager({ env })).toEqual({ kind: "i3", path: i3.socketPath });
  });
});
