import { mkdirSync } from "node:fs";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VmFigures } from "../../src/shared/monitoring-api.js";
import { execa } from "execa";
import { below, findAll, findOne, outline, texts, type AccessibilityBus, type AccessibleNode, type Found } from "../helpers/accessibility.js";
import { startAccessibilityBus } from "../helpers/accessibility.js";
import { REPO } from "../helpers/daemons.js";
import { startI3UnderXvfb, type I3UnderXvfb } from "../helpers/i3.js";
import { hasBinary, skipReason, waitFor } from "../helpers/processes.js";
import { x11Screenshot } from "../helpers/screenshot.js";
import { createSwayRuntimeDir } from "../helpers/sway.js";
import { makeGeneration } from "../helpers/test-guest.js";
import { startUserSession, type UserDaemon, type UserSession } from "../helpers/user-session.js";
import { APP, isButton, isListItem } from "./manager-screen.js";

// clan-manager under i3 on Xvfb (GDK_BACKEND=x11), as the desktop user, against that user's real clan-sessiond and
// clan-vmd booting the test guest in QEMU; read and driven through AT-SPI. Beyond the list and Start, it proves
// the monitoring: the window's graphs get the VM's figures while the window is shown, clan-sessiond stops
// sampling when i3 hides the window (a tab behind another, which i3 marks _NET_WM_STATE_HIDDEN and GTK reads as
// minimised) and starts again when it is shown; and the console log of a guest that prints terminal escapes
// (clan.hostile-console=1: OSC 52, OSC 0, clear screen, a right-to-left override) is on screen as text.

const ATSPI_LAUNCHER = "/usr/libexec/at-spi-bus-launcher";
const nodeGtkReason = await import("node-gtk").then(
  () => "",
  () => " (node-gtk did not build)",
);
const needs = ["i3", "Xvfb", "xmessage", "xdotool", "import", "qemu-system-x86_64", "dbus-daemon", "setpriv", "busctl", ATSPI_LAUNCHER];
const skip = (needs.every(hasBinary) ? "" : skipReason(...needs)) || nodeGtkReason;
const OUTPUT = join(REPO, "test-output", "manager");

describe.skipIf(skip !== "")(`clan-manager under i3 and Xvfb: monitoring and the console log${skip}`, () => {
  let i3: I3UnderXvfb;
  let runtimeDir: string;
  let user: UserSession;
  let a11y: AccessibilityBus;
  let manager: UserDaemon;
  const samples: VmFigures[] = [];
  let stopCounting: (() => void) | undefined;

  const tree = async (): Promise<AccessibleNode> => {
    if (manager.process.exitCode !== null) throw new Error(`clan-manager exited (${manager.process.exitCode}):\n${manager.output()}`);
    return a11y.tree(APP);
  };
  /** Waits until `probe` finds what it looks for on screen; on a timeout says what the window showed. */
  const onScreen = async <T>(what: string, probe: (root: AccessibleNode) => T | undefined, timeoutMs = 60_000): Promise<T> => {
    let last: AccessibleNode | undefined;
    try {
      return await waitFor(
        what,
        async () => {
          try {
            last = await tree();
          } catch (error) {
            if (/no application|no longer exists|Did not receive a reply/.test((error as Error).message)) return undefined;
            throw error;
          }
          return probe(last);
        },
        timeoutMs,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\nthe window shows:\n${last ? outline(last) : "nothing"}\nclan-manager said:\n${manager.output()}`);
    }
  };
  const rowTexts = (root: AccessibleNode, row: string): string[] | undefined => {
    const found = findAll(root, isListItem(row));
    return found.length === 1 ? texts(found[0]!.node) : undefined;
  };
  /** A left click in the middle of the node, through XTEST: where AT-SPI says it is in the window, the window where X has it. */
  const clickOn = async (found: Found) => {
    const box = await a11y.extents(APP, found);
    const xdotool = (args: string[]) => execa("xdotool", args, { env: { DISPLAY: i3.display } });
    const window = (await xdotool(["search", "--onlyvisible", "--name", "^Clan Manager$"])).stdout.split("\n")[0]!;
    const geometry = Object.fromEntries((await xdotool(["getwindowgeometry", "--shell", window])).stdout.split("\n").map((line) => line.split("=")));
    await xdotool(["mousemove", "--sync", String(Number(geometry.X) + box.x + Math.round(box.width / 2)), String(Number(geometry.Y) + box.y + Math.round(box.height / 2))]);
    await xdotool(["click", "1"]);
  };
  const familySamples = () => samples.filter((sample) => sample.network === "family").length;
  const sessiondSaid = (line: string) => user.sessiond.output().split(line).length - 1;

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    // New windows open as tabs: a window opened after the manager hides it behind its own tab.
    i3 = await startI3UnderXvfb({ config: "workspace_layout tabbed\n" });
    runtimeDir = await createSwayRuntimeDir();
    const generation = await makeGeneration(join(runtimeDir, "generations", "family"), { generation: "family-1", hostileConsole: true, vm: { stateDiskMiB: 0 } });
    // An address on the guest's eth0 (QEMU's user network): qemu-ga counts the bytes of interfaces with one only.
    const params = join(generation, "kernel-params");
    await writeFile(params, `${(await readFile(params, "utf8")).trim()} clan.ip=10.0.2.15/24\n`);
    const { uid, gid } = await stat(runtimeDir);
    user = await startUserSession(
      { uid, gid },
      {
        config: { networks: { family: { label: "Family", workspaces: ["2:family"], colour: "#2e7dbf", source: { profile: generation } } } },
        wmEnv: { DISPLAY: i3.display, XDG_RUNTIME_DIR: runtimeDir },
      },
    );
    a11y = await startAccessibilityBus({ uid, gid }, user.env);
    stopCounting = user.session.onFiguresSampled(
      (figures) => samples.push(figures),
      (error) => {
        throw error;
      },
    );
    manager = user.spawn("node", [join(REPO, "bin", "clanctl.js"), "manager"], { GDK_BACKEND: "x11", DISPLAY: i3.display, GSK_RENDERER: "cairo" });
  }, 120_000);

  afterAll(async () => {
    stopCounting?.();
    await manager?.stop();
    await a11y?.stop();
    await user?.stop();
    await i3?.stop();
    if (runtimeDir) await rm(runtimeDir, { recursive: true, force: true });
  });

  it("lists the network and starts its VM from the window under X11", async () => {
    await screen("family, stopped, in the list", (root) => (rowTexts(root, "Family")?.includes("stopped") ? true : undefined));
    await clickOn(findOne(await tree(), "family's row", isListItem("Family")));
    const start = await onScreen("family's detail with Start", (root) => {
      const vm = findAll(root, isListItem("VM state"));
      if (vm.length !== 1) return undefined;
      const button = below(vm[0]!, isButton("Start"), "Start button");
      return button.node.states.includes("sensitive") ? button : undefined;
    });
    // Nothing is sampled for a stopped VM: there are no figures to show.
    expect(familySamples()).toBe(0);
    await a11y.act(APP, start, "click");
    await user.waitForNetwork("family", (status) => status.vmState === "running", 120_000);
  }, 200_000);

  it("graphs the running VM's figures while the window shows it", async () => {
    const graphs = await onScreen("the CPU, memory, disk and network rows with measured figures", (root) => {
      const cpu = rowTexts(root, "CPU")?.join(" ") ?? "";
      const memory = rowTexts(root, "Memory")?.join(" ") ?? "";
      const disk = rowTexts(root, "Disk")?.join(" ") ?? "";
      const network = rowTexts(root, "Network")?.join(" ") ?? "";
      // Memory waits for the guest's first report, which its balloon driver sends within seconds of booting.
      return /% of one core/.test(cpu) && /as the guest reports/.test(memory) && /read .*\/s · written .*\/s/.test(disk) && /received .*\/s · sent .*\/s/.test(network)
        ? { cpu, memory, disk, network }
        : undefined;
    }, 90_000);
    expect(graphs.memory).toMatch(/^Memory \d+\.\d MiB used of \d+\.\d MiB, as the guest reports · QEMU \d+\.\d MiB resident$/);
    const shown = familySamples();
    expect(shown).toBeGreaterThanOrEqual(2);
    // The figures on screen are clan-vmd's: the guest's report and QEMU's resident memory as the last sample had them.
    const last = samples.filter((sample) => sample.network === "family").at(-1)!;
    expect(last.memoryBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(last.guestMemoryTotalBytes).toBeGreaterThan(last.guestMemoryUsedBytes);
    expect(last.guestMemoryUsedBytes).toBeGreaterThan(0);
    expect(last.cpuSeconds).toBeGreaterThan(0);
    expect(last.diskReadBytes).toBeGreaterThanOrEqual(0);
    // eth0's counters, from the guest agent: no problem named, nothing unknown.
    expect(last.problems).toEqual([]);
    expect(last.netReceivedBytes).toBeGreaterThanOrEqual(0);
    expect(last.netSentBytes).toBeGreaterThanOrEqual(0);
    await x11Screenshot(i3.display, join(OUTPUT, "monitoring.png"));
  }, 120_000);

  it("stops the sampling while i3 hides the window behind another tab, and starts it again when shown", async () => {
    const stopped = "family: no one watches its figures; sampling stopped";
    const started = "family: sampling its figures each second while watched";
    expect(sessiondSaid(started)).toBe(1);
    const cover = i3.spawnClient("xmessage", ["-name", "cover", "a window in front of the manager"]);
    await waitFor("clan-sessiond to stop sampling family", () => (sessiondSaid(stopped) === 1 ? true : undefined), 30_000);
    // A sample under way when the watch ended is dropped; in four seconds, which would have brought four, none comes.
    const whileHidden = familySamples();
    await sleep(4000);
    expect(familySamples()).toBe(whileHidden);

    cover.kill();
    await waitFor("clan-sessiond to sample family again", () => (sessiondSaid(started) === 2 && familySamples() > whileHidden + 1 ? true : undefined), 60_000);
  }, 120_000);

  it("shows the console log, with the guest's escape sequences as text", async () => {
    await clickOn(findOne(await tree(), "the console log row's header", (node) => node.role === "list item" && node.name === "Console log"));
    const console = await onScreen("the console's hostile line, escaped", (root) => texts(root).find((text) => text.includes("hostile console:")));
    expect(console).toContain("\\x1b]52;c;aGFja2Vk\\x07");
    expect(console).toContain("\\x1b]0;pwned-title\\x07");
    expect(console).toContain("\\x1b[2J");
    expect(console).toContain("\\u202eevil");
    // No label on screen holds an escape, a bell or a bidi override as the character itself.
    for (const text of texts(await tree())) expect(text, text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    await x11Screenshot(i3.display, join(OUTPUT, "console-log.png"));
  }, 120_000);

  /** The list once the window is on the accessibility bus (GTK registers it a moment after mapping). */
  function screen(what: string, probe: (root: AccessibleNode) => true | undefined) {
    return onScreen(what, probe, 90_000);
  }
});
