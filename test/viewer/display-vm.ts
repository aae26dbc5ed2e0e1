import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { collectOutput, stopProcess } from "../helpers/processes.js";
import { startSessionBus, type SessionBus } from "../helpers/session-bus.js";

// What the viewer's e2e tests run it against: an X server (Xvfb), a private bus, and a bare QEMU PC with its D-Bus
// display on that bus, whose firmware writes its boot messages on the VGA screen; and clan-viewer itself, run
// from bin/ as clan-sessiond runs it, under X11 (where it chooses GTK's cairo renderer itself: Xvfb's GL is software).

export const nodeGtkSkipReason = await import("node-gtk").then(
  () => "",
  () => " (node-gtk did not build)",
);

export interface DisplayVm {
  /** The X display the viewer draws on. */
  display: string;
  bus: SessionBus;
  qemu: ResultPromise;
  qemuLog(): string;
  stop(): Promise<void>;
}

export interface DisplayVmOptions {
  display: string;
  qemuBinary?: string;
  /** Beyond the bare PC with `-display dbus`: e.g. a QMP or VNC socket. */
  extraQemuArgs?: string[];
  busTimeoutMs?: number;
}

export async function startDisplayVm(options: DisplayVmOptions): Promise<DisplayVm> {
  const xvfb = execa("Xvfb", [options.display, "-screen", "0", "1024x768x24", "-nolisten", "tcp"], { reject: false });
  const bus = await startSessionBus();
  const qemu = execa(
    options.qemuBinary ?? "qemu-system-x86_64",
    ["-machine", "pc", "-accel", "tcg", "-m", "64", "-display", "dbus", "-vga", "std", "-nic", "none", "-serial", "none", "-monitor", "none", ...(options.extraQemuArgs ?? [])],
    { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: bus.address }, reject: false },
  );
  const qemuLog = collectOutput(qemu);
  const stop = async () => {
    await stopProcess(qemu);
    await stopProcess(xvfb);
    await bus.stop();
  };
  try {
    await waitUntil(async () => {
      const names = await execa("busctl", ["--address", bus.address, "list", "--no-legend"], { reject: false });
      return names.stdout.includes("org.qemu") ? true : undefined;
    }, `QEMU to own org.qemu on the bus:\n${qemuLog()}`, options.busTimeoutMs ?? 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { display: options.display, bus, qemu, qemuLog, stop };
}

export interface RunningViewer {
  process: ResultPromise;
  log(): string;
}

/**
 * clan-viewer on the VM's bus. `stats`: it logs its counters every second (a timer of its own, which clan-sessiond
 * does not ask for). `sessionBus`: GTK finds the VM's bus as its session bus, as under a desktop session.
 */
export function runViewer(vm: DisplayVm, options: { colour: string; stats: boolean; sessionBus?: boolean }): RunningViewer {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DISPLAY: vm.display,
    GDK_BACKEND: "x11",
    WAYLAND_DISPLAY: "",
    CLAN_VIEWER_STATS: options.stats ? "1" : "",
    ...(options.sessionBus ? { DBUS_SESSION_BUS_ADDRESS: vm.bus.address } : {}),
  };
  // The viewer chooses its renderer itself, as where clan-sessiond starts it.
  delete env.GSK_RENDERER;
  const child = execa("node", [join(REPO, "bin/clan-viewer.js"), "--address", vm.bus.address, "--label", "family", "--colour", options.colour], { env, extendEnv: false, reject: false });
  return { process: child, log: collectOutput(child) };
}

/** The viewer window's size on the X screen (it sits at the corner: Xvfb has no window manager). */
export async function windowSize(display: string): Promise<{ width: number; height: number }> {
  const { stdout } = await execa("xwininfo", ["-name", "[family]"], { env: { ...process.env, DISPLAY: display }, reject: false });
  const width = Number(/Width: (\d+)/.exec(stdout)?.[1] ?? 0);
  const height = Number(/Height: (\d+)/.exec(stdout)?.[1] ?? 0);
  return { width, height };
}
