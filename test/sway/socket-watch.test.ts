import { mkdirSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FoundWindowManager } from "../../src/sway/ipc/socket-discovery.js";
import { socketPlaces, watchWindowManagerSockets, type SocketWatch } from "../../src/sway/ipc/socket-watch.js";
import { makeStaleSocket } from "../helpers/stale-socket.js";

// The socket watch on a temp directory standing in for XDG_RUNTIME_DIR, with real unix sockets. Every test ends
// by creating one more socket and waiting for its report: events come in order, so whatever should not have been
// reported before it would have been by then.

const UID = 1234;

let root: string;
let runtimeDir: string;
let watch: SocketWatch | undefined;
const servers: Server[] = [];
let reported: FoundWindowManager[];
let failures: string[];
let waiters: (() => void)[];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "clan-socket-watch-"));
  runtimeDir = join(root, "run");
  reported = [];
  failures = [];
  waiters = [];
});

afterEach(async () => {
  watch?.close();
  watch = undefined;
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  await rm(root, { recursive: true, force: true });
});

function startWatch(env: NodeJS.ProcessEnv = { XDG_RUNTIME_DIR: runtimeDir }): void {
  watch = watchWindowManagerSockets({
    env,
    uid: UID,
    candidate: (found) => {
      reported.push(found);
      waiters.splice(0).forEach((wake) => wake());
    },
    failed: (place, error) => failures.push(`${place}: ${error.message}`),
  });
}

/** Listens on `path` as a window manager would. */
async function listen(path: string): Promise<void> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(path, resolve));
}

async function untilReported(path: string): Promise<void> {
  while (!reported.some((found) => found.path === path)) await new Promise<void>((resolve) => waiters.push(resolve));
}

describe("socketPlaces", () => {
  it("watches XDG_RUNTIME_DIR for this uid's sway sockets, its i3 directory, and the directories of SWAYSOCK and I3SOCK", () => {
    const places = socketPlaces({ XDG_RUNTIME_DIR: "/run/user/7", SWAYSOCK: "/tmp/s/sway.sock", I3SOCK: "/tmp/i/ipc.sock" }, 7);
    expect(places.map(({ kind, directory }) => ({ kind, directory }))).toEqual([
      { kind: "sway", directory: "/tmp/s" },
      { kind: "i3", directory: "/tmp/i" },
      { kind: "sway", directory: "/run/user/7" },
      { kind: "i3", directory: "/run/user/7/i3" },
    ]);
    const [swaysock, i3sock, sway, i3] = places;
    expect(swaysock?.name.test("sway.sock")).toBe(true);
    expect(swaysock?.name.test("swayXsock")).toBe(false);
    expect(i3sock?.name.test("ipc.sock")).toBe(true);
    expect(sway?.name.test("sway-ipc.7.123.sock")).toBe(true);
    expect(sway?.name.test("sway-ipc.8.123.sock")).toBe(false);
    expect(i3?.name.test("ipc-socket.42")).toBe(true);
    expect(i3?.name.test("ipc-socket.42.bak")).toBe(false);
  });

  it("has nothing to watch without XDG_RUNTIME_DIR, SWAYSOCK and I3SOCK", () => {
    expect(socketPlaces({}, 7)).toEqual([]);
  });
});

describe("watchWindowManagerSockets", () => {
  it("reports a sway socket that appears in XDG_RUNTIME_DIR, and nothing else that appears there", async () => {
    await mkdir(runtimeDir);
    startWatch();
    await writeFile(join(runtimeDir, `sway-ipc.${UID}.99.sock`), "a regular file, not a socket");
    await listen(join(runtimeDir, "wayland-1"));
    await listen(join(runtimeDir, `sway-ipc.${UID + 1}.98.sock`));
    const path = join(runtimeDir, `sway-ipc.${UID}.100.sock`);
    await listen(path);
    await untilReported(path);
    expect(reported).toEqual([{ kind: "sway", path }]);
    expect(failures).toEqual([]);
  });

  it("does not report a stale socket that was there before it started", async () => {
    await mkdir(join(runtimeDir, "i3"), { recursive: true });
    await makeStaleSocket(join(runtimeDir, `sway-ipc.${UID}.50.sock`));
    await makeStaleSocket(join(runtimeDir, "i3", "ipc-socket.51"));
    startWatch();
    const path = join(runtimeDir, `sway-ipc.${UID}.52.sock`);
    await listen(path);
    await untilReported(path);
    expect(reported).toEqual([{ kind: "sway", path }]);
  });

  it("reports a stale socket once when it appears, and not when it is removed", async () => {
    await mkdir(runtimeDir);
    startWatch();
    const stale = join(runtimeDir, `sway-ipc.${UID}.60.sock`);
    await makeStaleSocket(stale);
    await untilReported(stale);
    await rm(stale);
    const path = join(runtimeDir, `sway-ipc.${UID}.61.sock`);
    await listen(path);
    await untilReported(path);
    expect(reported.map((found) => found.path)).toEqual([stale, path]);
  });

  it("follows XDG_RUNTIME_DIR/i3 from its parent when it does not exist yet, and the runtime dir itself too", async () => {
    startWatch();
    await mkdir(join(runtimeDir, "i3"), { recursive: true });
    const path = join(runtimeDir, "i3", "ipc-socket.70");
    await listen(path);
    await untilReported(path);
    expect(reported).toEqual([{ kind: "i3", path }]);
  });

  it("reports a socket made in XDG_RUNTIME_DIR/i3 before the watch reached the new directory", async () => {
    await mkdir(runtimeDir);
    startWatch();
    // No event of its own can be seen for the socket: the directory and it are made before the watch is moved.
    const staging = join(root, "staging");
    await mkdir(staging);
    const path = join(staging, "ipc-socket.75");
    await listen(path);
    await rename(staging, join(runtimeDir, "i3"));
    const moved = join(runtimeDir, "i3", "ipc-socket.75");
    await untilReported(moved);
    expect(reported).toEqual([{ kind: "i3", path: moved }]);
  });

  it("goes on watching XDG_RUNTIME_DIR/i3 after it was removed and made again", async () => {
    await mkdir(join(runtimeDir, "i3"), { recursive: true });
    startWatch();
    const first = join(runtimeDir, "i3", "ipc-socket.80");
    await listen(first);
    await untilReported(first);
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
    await rm(join(runtimeDir, "i3"), { recursive: true });
    await mkdir(join(runtimeDir, "i3"));
    const second = join(runtimeDir, "i3", "ipc-socket.81");
    await listen(second);
    await untilReported(second);
    expect(reported.map((found) => found.path)).toEqual([first, second]);
  });

  it("goes on watching XDG_RUNTIME_DIR/i3 when it is removed and made again before the watch hears of it", async () => {
    await mkdir(join(runtimeDir, "i3"), { recursive: true });
    startWatch();
    // Both in one synchronous stretch: the watch sees the removal only once a new directory stands at the path.
    rmSync(join(runtimeDir, "i3"), { recursive: true });
    mkdirSync(join(runtimeDir, "i3"));
    const socket = join(runtimeDir, "i3", "ipc-socket.82");
    await listen(socket);
    await untilReported(socket);
    expect(reported.map((found) => found.path)).toEqual([socket]);
  });

  it("reports the socket SWAYSOCK names, in a directory of its own", async () => {
    await mkdir(runtimeDir);
    const path = join(root, "elsewhere", "sway.sock");
    startWatch({ XDG_RUNTIME_DIR: runtimeDir, SWAYSOCK: path });
    await mkdir(join(root, "elsewhere"));
    await listen(join(root, "elsewhere", "other.sock"));
    await listen(path);
    await untilReported(path);
    expect(reported).toEqual([{ kind: "sway", path }]);
  });

  it("reports nothing more once closed", async () => {
    await mkdir(runtimeDir);
    startWatch();
    watch?.close();
    await listen(join(runtimeDir, `sway-ipc.${UID}.90.sock`));
    // A second watch of the same directory sees a later socket: had the closed one reported the earlier, it
    // would have done so before that.
    startWatch();
    const path = join(runtimeDir, `sway-ipc.${UID}.91.sock`);
    await listen(path);
    await untilReported(path);
    expect(reported).toEqual([{ kind: "sway", path }]);
  });
});
