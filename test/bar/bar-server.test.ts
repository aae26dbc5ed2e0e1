import { mkdtemp, rm, stat } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BarServer } from "../../src/bar/bar-server.js";
import type { BarState } from "../../src/bar/model.js";
import { networkStatus } from "./network-status.js";

// clan-sessiond's bar socket, served by BarServer on a real Unix socket, talked to as a relay would: a hello line,
// then clicks; status lines back. Scripted state and actions stand in for the rest of clan-sessiond.

interface Client {
  socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves with the received text once `predicate` holds for it. */
  until(predicate: (text: string) => boolean): Promise<string>;
  closed: Promise<void>;
}

function client(path: string, hello?: string): Client {
  let text = "";
  const waiters: (() => void)[] = [];
  const socket = connect(path);
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    text += chunk;
    for (const waiter of waiters.splice(0)) waiter();
  });
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  if (hello !== undefined) socket.write(hello);
  return {
    socket,
    received: () => text,
    until(predicate) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (predicate(text)) resolve(text);
          else if (socket.destroyed) reject(new Error(`closed before the expected text; received: ${text}`));
          else waiters.push(check);
        };
        void closed.then(check);
        check();
      });
    },
    closed,
  };
}

describe("clan-sessiond's bar socket", () => {
  let dir: string;
  let server: BarServer;
  let state: BarState;
  const calls: string[] = [];
  const reports: string[] = [];
  let reported: () => void = () => undefined;
  const untilReported = (pattern: RegExp) =>
    new Promise<void>((resolve) => {
      const check = () => (reports.some((line) => pattern.test(line)) ? resolve() : (reported = check));
      check();
    });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "clan-bar-server-"));
    // In the order of their names, as clan-sessiond hands them over.
    state = { kind: "networks", networks: [networkStatus({ name: "club", label: "Club", colour: "#b5462f" }), networkStatus()] };
    calls.length = 0;
    reports.length = 0;
    server = await BarServer.listen({
      socketPath: join(dir, "bar.sock"),
      state: () => state,
      actions: {
        switchTo: async (network) => void calls.push(`Switch ${network}`),
        startRebuild: async (network) => {
          calls.push(`Rebuild ${network}`);
          throw new Error("network family boots a profile");
        },
        startRollback: async (network, to) => {
          calls.push(`Rollback ${network} ${to}`);
          return "job-1";
        },
        openManager: async () => void calls.push("OpenManager"),
      },
      report: (message) => {
        reports.push(message);
        reported();
      },
    });
  });

  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("is a socket only its owner may use", async () => {
    expect((await stat(join(dir, "bar.sock"))).mode & 0o777).toBe(0o600);
  });

  it("sends the format's line at once and again when it changes, each framed to follow the relay's opening", async () => {
    const bar = client(join(dir, "bar.sock"), '{"format":"i3bar"}\n');
    const first = await bar.until((text) => text.endsWith("\n"));
    expect(first).toMatch(/^,\[\{"name":"clan-desktop","instance":"club".*"instance":"family"/);
    // An unchanged state sends nothing; the next change sends one line.
    server.publish();
    state = { kind: "networks", networks: [networkStatus({ vmState: "running" })] };
    server.publish();
    const both = await bar.until((text) => text.split("\n").length === 3);
    const lines = both.split("\n");
    expect(lines[1]).toMatch(/^,\[\{"name":"clan-desktop","instance":"family".*●/);
    expect(lines[1]).not.toContain("club");
    bar.socket.destroy();
  });

  it("shows one network to a waybar module that names it", async () => {
    const bar = client(join(dir, "bar.sock"), '{"format":"waybar","network":"club"}\n');
    const line = await bar.until((text) => text.endsWith("\n"));
    expect(JSON.parse(line)).toMatchObject({ alt: "stopped", class: expect.arrayContaining(["stopped"]) });
    expect(JSON.parse(line).text).toContain(" Club ");
    bar.socket.destroy();
  });

  it("turns clicks into actions, logs the refused and the malformed ones, and keeps the connection", async () => {
    const bar = client(join(dir, "bar.sock"), '{"format":"i3bar"}\n[\n{"name":"clan-desktop","instance":"family","button":1}\n');
    await bar.until((text) => text.endsWith("\n"));
    bar.socket.write(',{"name":"clan-desktop","instance":"family","button":2}\n,{"name":"clan-desktop","instance":"club","button":3}\n');
    bar.socket.write(`,{"button":\n,${"z".repeat(100_000)}\n,{"name":"clan-desktop","instance":"club","button":5}\n`);
    bar.socket.write(',{"name":"clan-desktop","instance":"clan-sessiond","button":1}\n');
    await untilReported(/ignoring a click on a block that stands for no single network/);
    await untilReported(/Rebuild family failed: network family boots a profile/);
    expect(calls).toEqual(["Switch family", "Rebuild family", "Rollback club -1"]);
    // The refusal arrives when the call fails, after the lines that follow it may have been read.
    expect(reports).toHaveLength(5);
    expect(reports).toEqual(expect.arrayContaining([
      "bar client 1: connected: i3bar",
      expect.stringMatching(/^bar client 1: ignoring click input: not JSON/),
      "bar client 1: ignoring a click line of 100001 characters: longer than any click event",
      "bar client 1: ignoring a click on a block that stands for no single network",
      "bar client 1: Rebuild family failed: network family boots a profile",
    ]));
    state = { kind: "networks", networks: [networkStatus({ vmState: "paused" })] };
    server.publish();
    await bar.until((text) => text.includes("‖"));
    bar.socket.destroy();
  });

  it("answers a bad hello with an error line and closes, and serves the next bar", async () => {
    const notJson = client(join(dir, "bar.sock"), "hello\n");
    const unknown = client(join(dir, "bar.sock"), '{"format":"lemonbar"}\n');
    const extra = client(join(dir, "bar.sock"), '{"format":"waybar","colour":"red"}\n');
    const huge = client(join(dir, "bar.sock"), `{"format":"${"i".repeat(70_000)}`);
    await Promise.all([notJson.closed, unknown.closed, extra.closed, huge.closed]);
    expect(notJson.received()).toMatch(/^clan-sessiond: the hello line is not JSON \(.*\)\n$/);
    expect(unknown.received()).toMatch(/^clan-sessiond: the hello line is not .*format: Invalid option: expected one of "i3bar"\|"waybar"\|"i3blocks"\)\n$/);
    expect(extra.received()).toMatch(/^clan-sessiond: the hello line is not .*Unrecognized key: "colour"/);
    expect(huge.received()).toMatch(/^clan-sessiond: the hello line has more than 1024 characters\n$/);
    const bar = client(join(dir, "bar.sock"), '{"format":"i3blocks","network":"family"}\n');
    expect(JSON.parse(await bar.until((text) => text.endsWith("\n")))).toMatchObject({ name: "clan-desktop", instance: "family" });
    bar.socket.destroy();
  });

  it("keeps sending to a relay that closed its sending half (a bar without clicks)", async () => {
    const bar = client(join(dir, "bar.sock"));
    bar.socket.end('{"format":"waybar"}\n');
    await bar.until((text) => text.endsWith("\n"));
    state = { kind: "networks", networks: [networkStatus({ vmState: "failed" })] };
    server.publish();
    await bar.until((text) => text.includes("✖"));
    bar.socket.destroy();
  });
});
