import { spawn } from "node:child_process";
import { getPriority } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { BackgroundWork } from "../../src/vmd/background-priority.js";

// A store view prepared ahead runs at nice 19; a start that comes to wait for it raises it back (as root). Played with
// real processes and the kernel's own account of their niceness.

const children: ReturnType<typeof spawn>[] = [];
const sleeper = () => {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  children.push(child);
  return child.pid!;
};

afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

describe("BackgroundWork", () => {
  it("runs each process it is told of at nice 19", () => {
    const work = new BackgroundWork();
    const pid = sleeper();
    work.spawned(pid);
    expect(getPriority(pid)).toBe(19);
  });

  it.skipIf(process.getuid?.() !== 0)("hurry() raises its processes, and those spawned after, back to nice 0 (root only: a user may not lower a niceness)", () => {
    const work = new BackgroundWork();
    const before = sleeper();
    work.spawned(before);
    work.hurry();
    const after = sleeper();
    work.spawned(after);
    expect(getPriority(before)).toBe(0);
    expect(getPriority(after)).toBe(0);
  });

  it("leaves a process that already exited alone", async () => {
    const child = spawn("true");
    const pid = child.pid!;
    await new Promise((resolve) => child.on("exit", resolve));
    const work = new BackgroundWork();
    expect(() => work.spawned(pid)).not.toThrow();
    expect(() => work.hurry()).not.toThrow();
  });
});
