import { EventEmitter } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { BackendEvents, WindowManagerBackend } from "../../src/session/window-manager-backend.js";
import { ATTEMPT_DELAYS_MS, searchForWindowManager } from "../../src/sway/window-manager-search.js";

// When the search tries to connect, with the connection itself FAKED (connect() is the test's): real socket
// files in a temp XDG_RUNTIME_DIR, and fake timers, so that "no timer is left" is read off the timer count
// rather than guessed from waiting.

const UID = 4321;

class FakeBackend extends EventEmitter<BackendEvents> implements WindowManagerBackend {
  readonly kind = "sway";
  closed = false;
  focusedWorkspace = async () => undefined;
  focusWorkspace = async () => undefined;
  claimWindowsOf = async () => undefined;
  releaseWindowsOf = () => undefined;
  close = async () => {
    this.closed = true;
  };
}

let runtimeDir: string;
let servers: Server[];
let tries: number;
let answers: (() => Promise<WindowManagerBackend>)[];
let logged: string[];
let stop: AbortController;

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  runtimeDir = await mkdtemp(join(tmpdir(), "clan-wm-search-"));
  servers = [];
  tries = 0;
  answers = [];
  logged = [];
  stop = new AbortController();
});

afterEach(async () => {
  stop.abort();
  vi.useRealTimers();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await rm(runtimeDir, { recursive: true, force: true });
});

function search() {
  return searchForWindowManager({
    env: { XDG_RUNTIME_DIR: runtimeDir },
    uid: UID,
    connect: () => {
      tries++;
      return answers.shift()?.() ?? Promise.reject(new Error("nothing listens"));
    },
    log: (line) => logged.push(line),
    signal: stop.signal,
  });
}

async function appear(pid: number): Promise<void> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(join(runtimeDir, `sway-ipc.${UID}.${pid}.sock`), resolve));
}

/** Lets real I/O (file-system events, the fake connect's promises) run, and due fake timers fire, until `done`. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) {
    await new Promise((resolve) => setImmediate(resolve));
    await vi.advanceTimersToNextTimerAsync();
  }
}

/** Runs every timer there is, until none is left. */
async function runOutTimers(): Promise<void> {
  while (vi.getTimerCount() > 0) await vi.advanceTimersToNextTimerAsync();
  await new Promise((resolve) => setImmediate(resolve));
}

describe("searchForWindowManager", () => {
  it("tries once when it starts, then holds no timer while no socket appears", async () => {
    void search();
    await until(() => tries === 1);
    await runOutTimers();
    expect(tries).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    expect(logged.join("\n")).toContain(`waiting for a window manager's socket in ${runtimeDir}, ${join(runtimeDir, "i3")}`);
  });

  it("connects when a socket appears", async () => {
    const backend = new FakeBackend();
    const found = search();
    await until(() => tries === 1);
    answers.push(async () => backend);
    await appear(10);
    await until(() => tries === 2);
    await expect(found).resolves.toBe(backend);
    expect(tries).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("tries a few times after a socket appears, as a window manager listens a moment after it binds", async () => {
    const backend = new FakeBackend();
    const found = search();
    await until(() => tries === 1);
    answers.push(() => Promise.reject(new Error("ECONNREFUSED")), async () => backend);
    await appear(11);
    await until(() => tries === 3);
    await expect(found).resolves.toBe(backend);
  });

  it("gives up on a socket nothing listens on after a bounded number of tries, and waits for the next one", async () => {
    const backend = new FakeBackend();
    const found = search();
    await until(() => tries === 1);
    await appear(12);
    await until(() => tries === 1 + ATTEMPT_DELAYS_MS.length);
    await runOutTimers();
    expect(tries).toBe(1 + ATTEMPT_DELAYS_MS.length);
    expect(vi.getTimerCount()).toBe(0);
    expect(logged.join("\n")).toMatch(/sway-ipc\.4321\.12\.sock appeared, but no sway could be reached: nothing listens; waiting for the next/);

    answers.push(async () => backend);
    await appear(13);
    await until(() => tries === 2 + ATTEMPT_DELAYS_MS.length);
    await expect(found).resolves.toBe(backend);
  });

  it("ends with nothing, and no timer, when aborted; a backend connected meanwhile is closed", async () => {
    const backend = new FakeBackend();
    let connected: (backend: WindowManagerBackend) => void = () => undefined;
    answers.push(() => new Promise((resolve) => (connected = resolve)));
    const found = search();
    await until(() => tries === 1);
    stop.abort();
    await expect(found).resolves.toBeUndefined();
    connected(backend);
    await until(() => backend.closed);
    expect(vi.getTimerCount()).toBe(0);
  });
});
