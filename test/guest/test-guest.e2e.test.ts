import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeGeneration, testGuestPaths } from "../helpers/test-guest.js";

// Boots the test guest with a bare QEMU command (no clan-vmd) and checks both of its host-facing protocols.

/** A unix-socket client that splits what arrives into JSON lines and lets a test wait for one. */
class JsonLines {
  private readonly lines: unknown[] = [];
  private buffer = "";
  private constructor(private readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      let newline: number;
      while ((newline = this.buffer.indexOf("\n")) >= 0) {
        this.lines.push(JSON.parse(this.buffer.slice(0, newline)));
        this.buffer = this.buffer.slice(newline + 1);
      }
    });
  }

  /** QEMU creates its sockets a moment after it starts: retry until one accepts. */
  static async connect(path: string, timeoutMs = 10_000): Promise<JsonLines> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path, () => resolve(s)).once("error", reject);
        });
        return new JsonLines(socket);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(100);
      }
    }
  }

  send(message: unknown): void {
    this.socket.write(`${JSON.stringify(message)}\n`);
  }

  /** Removes and returns the first line that arrived (or arrives within the timeout). */
  async next(timeoutMs: number): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (Date.now() > deadline) throw new Error(`no line within ${timeoutMs} ms`);
      await sleep(50);
    }
    return this.lines.shift();
  }

  close(): void {
    this.socket.destroy();
  }
}

describe("test guest under bare QEMU", () => {
  let dir: string;
  let qemu: ChildProcess;
  let control: JsonLines;
  let startedAt: number;
  const sockets = () => ({ control: join(dir, "control.sock"), agent: join(dir, "qga.sock") });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "clan-test-guest-"));
    const generation = await makeGeneration(join(dir, "gen"), { generation: "g-e2e-1" });
    const { kernel, initrd } = testGuestPaths();
    const params = (await readFile(join(generation, "kernel-params"), "utf8")).trim();
    startedAt = Date.now();
    // -no-reboot: the kernel-params say panic=-1, which would otherwise reboot forever.
    qemu = spawn(
      "qemu-system-x86_64",
      [
        "-accel", "tcg", "-nographic", "-nodefaults", "-no-reboot", "-m", "256",
        "-kernel", kernel, "-initrd", initrd, "-append", params,
        "-serial", `file:${join(dir, "console.log")}`,
        "-device", "virtio-serial-pci",
        "-chardev", `socket,id=ctl,path=${sockets().control},server=on,wait=off`,
        "-device", "virtserialport,chardev=ctl,name=org.clan.control.0",
        "-chardev", `socket,id=qga,path=${sockets().agent},server=on,wait=off`,
        "-device", "virtserialport,chardev=qga,name=org.qemu.guest_agent.0",
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    control = await JsonLines.connect(sockets().control);
  });

  afterAll(async () => {
    control?.close();
    if (qemu && qemu.exitCode === null) {
      const exited = new Promise((resolve) => qemu.once("exit", resolve));
      qemu.kill("SIGKILL");
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("sends ready with its generation on the control port, and answers ping", async () => {
    expect(await control.next(30_000)).toEqual({ type: "ready", generation: "g-e2e-1" });
    console.log(`test guest ready ${((Date.now() - startedAt) / 1000).toFixed(1)} s after QEMU started`);
    control.send({ type: "ping" });
    expect(await control.next(10_000)).toEqual({ type: "pong" });
    expect(await readFile(join(dir, "console.log"), "utf8")).toContain("clan test guest g-e2e-1 ready");
  });

  it("sends ready again when the host reconnects after the guest saw it leave", async () => {
    control.close();
    const consoleLog = join(dir, "console.log");
    await expect
      .poll(() => readFile(consoleLog, "utf8"), { timeout: 10_000, interval: 100 })
      .toContain("init: control port host disconnected");
    control = await JsonLines.connect(sockets().control);
    expect(await control.next(10_000)).toEqual({ type: "ready", generation: "g-e2e-1" });
  });

  it("runs qemu-ga on the guest-agent port", async () => {
    const agent = await JsonLines.connect(sockets().agent);
    try {
      agent.send({ execute: "guest-ping" });
      expect(await agent.next(10_000)).toEqual({ return: {} });
      agent.send({ execute: "guest-info" });
      expect(await agent.next(10_000)).toMatchObject({ return: { version: expect.stringMatching(/^\d+\.\d+/) } });
      // Only tmpfs-like filesystems are mounted: a freeze succeeds with nothing to freeze and leaves no
      // frozen state behind (no thaw is needed).
      agent.send({ execute: "guest-fsfreeze-freeze" });
      expect(await agent.next(10_000)).toEqual({ return: 0 });
      agent.send({ execute: "guest-fsfreeze-status" });
      expect(await agent.next(10_000)).toEqual({ return: "thawed" });
    } finally {
      agent.close();
    }
  });
});
