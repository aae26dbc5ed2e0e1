import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, rmSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { errorMessage } from "../shared/errors.js";
import { VIEWER_UNAVAILABLE_EXIT, viewerArguments } from "../shared/viewer-launch.js";
import { ensurePrivateDirectory } from "../shared/private-directory.js";
import type { VmStatus } from "../shared/vm-api.js";
import type { NetworkRegistry } from "./network-registry.js";
import { WaypipeBridge } from "./waypipe-bridge.js";
import type { WindowManagerBackend } from "./window-manager-backend.js";

// Each running VM with a display gets a host process whose windows show it: `remote-viewer` for SPICE,
// clan-viewer for QEMU's D-Bus display, a `waypipe client` (fed by a WaypipeBridge from the VM's port, and
// reaching the compositor only through clan-wayland-filter's allow-list) for forwarded app windows. The host started it, so its windows are recognised by its pid: placed on the network's
// first workspace and decorated there by the window manager. It stops with the VM; one that exited comes back the
// next time the user enters the network, and a clan-viewer that failed comes back at once (after a growing pause).

export interface DisplayViewersOptions {
  registry: NetworkRegistry;
  backend: () => WindowManagerBackend | undefined;
  viewerBinary: string;
  /** clan-viewer's command line up to its own arguments (node and its script). */
  dbusViewer: string[];
  waypipeBinary: string;
  /** clan-wayland-filter, which stands between `waypipe client` and the compositor (src/session/wayland-filter/). */
  waylandFilter: string;
  /** clan-sessiond's own 0700 directory for the waypipe clients' sockets, or undefined when there is none. */
  runtimeDir: string | undefined;
  /** A host display process started or ended: window managers outside this process (GNOME) follow `pids()`. */
  pidsChanged: () => void;
  log: (message: string) => void;
}

interface HostDisplay {
  child: ChildProcess;
  /** The VM's display socket this process serves. */
  socket: string;
  stop(): void;
}

// sockaddr_un.sun_path is 108 bytes including the terminating NUL.
const UNIX_SOCKET_PATH_LIMIT = 107;

/** A clan-viewer that fails is started again after this pause, doubled up to the maximum while it keeps failing;
 *  one that ran for the maximum before it failed starts from the first pause again. */
const VIEWER_RESTART = { firstMs: 1000, maxMs: 30_000 };

export class DisplayViewers {
  private readonly hostDisplays = new Map<string, HostDisplay>();
  private readonly displays = new Map<string, VmStatus>();
  private readonly restartPauses = new Map<string, number>();
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  /** clan-viewer said it cannot run on this host (node-gtk missing): said once, not retried. */
  private dbusViewerUnavailable = false;

  constructor(private readonly options: DisplayViewersOptions) {}

  pidOf(network: string): number | undefined {
    return this.hostDisplays.get(network)?.child.pid;
  }

  /** The pid of each network's host display process, for window managers that place windows themselves. */
  pids(): Record<string, number> {
    const pids: Record<string, number> = {};
    for (const [network, display] of this.hostDisplays) if (display.child.pid !== undefined) pids[network] = display.child.pid;
    return pids;
  }

  vmChanged(vm: VmStatus): void {
    if (vm.state === "running" && vm.display !== "none" && vm.displaySocket) {
      this.displays.set(vm.network, vm);
      this.ensureHostDisplay(vm.network);
    } else if (vm.state === "stopped" || vm.state === "failed" || vm.state === "stopping") {
      this.displays.delete(vm.network);
      this.restartPauses.delete(vm.network);
      clearTimeout(this.restartTimers.get(vm.network));
      this.restartTimers.delete(vm.network);
      this.stopHostDisplay(vm.network);
    }
  }

  networkEntered(network: string): void {
    if (this.displays.has(network)) this.ensureHostDisplay(network);
  }

  closeAll(): void {
    for (const timer of this.restartTimers.values()) clearTimeout(timer);
    this.restartTimers.clear();
    for (const network of [...this.hostDisplays.keys()]) this.stopHostDisplay(network);
  }

  private ensureHostDisplay(network: string): void {
    const vm = this.displays.get(network);
    const config = this.options.registry.config(network);
    if (!vm || !config) return;
    const existing = this.hostDisplays.get(network);
    if (existing && existing.socket === vm.displaySocket && existing.child.exitCode === null) return;
    if (existing) this.stopHostDisplay(network);
    if (vm.display === "dbus" && this.dbusViewerUnavailable) return;
    let display: HostDisplay;
    try {
      display =
        vm.display === "waypipe"
          ? this.startWaypipe(network, vm)
          : vm.display === "dbus"
            ? this.startDbusViewer(network, vm.displaySocket, config)
            : this.startSpiceViewer(network, vm.displaySocket);
    } catch (error) {
      this.options.log(`${network}: cannot show the VM's ${vm.display} display: ${errorMessage(error)}`);
      return;
    }
    this.hostDisplays.set(network, display);
    this.options.pidsChanged();
    const pid = display.child.pid;
    const workspace = config.workspaces[0];
    const backend = this.options.backend();
    if (pid === undefined || workspace === undefined || !backend) return;
    backend
      .claimWindowsOf(pid, { network, workspace, label: config.label, colour: config.colour })
      .catch((error: unknown) => this.options.log(`${network}: cannot place the ${vm.display} display's windows: ${errorMessage(error)}`));
  }

  private stopHostDisplay(network: string): void {
    const display = this.hostDisplays.get(network);
    if (!display) return;
    this.hostDisplays.delete(network);
    this.options.pidsChanged();
    if (display.child.pid !== undefined) this.options.backend()?.releaseWindowsOf(display.child.pid);
    display.stop();
  }

  private startSpiceViewer(network: string, spiceSocket: string): HostDisplay {
    // The socket path comes from clan-vmd, never from the guest; it is one argv element, never a shell word.
    // spice-gtk grabs the keyboard while the pointer is over the guest's screen (on Wayland: it inhibits the
    // compositor's shortcuts), so the window manager's keys would reach the guest and the user could not leave the
    // network with the keyboard. SPICE_NOGRAB keeps spice-gtk from grabbing: keys the WM binds stay the WM's.
    const child = this.spawnWatched(network, "viewer", this.options.viewerBinary, [`spice+unix://${spiceSocket}`], {
      env: { SPICE_NOGRAB: "1" },
    });
    return { child, socket: spiceSocket, stop: () => child.kill("SIGTERM") };
  }

  /** clan-viewer draws the network's frame itself, from the user's config; the guest's pixels go inside it. */
  private startDbusViewer(network: string, displaySocket: string, config: { label: string; colour: string }): HostDisplay {
    const [binary, ...prefix] = this.options.dbusViewer;
    if (binary === undefined) throw new Error("no clan-viewer command is configured");
    const startedAt = Date.now();
    const child = this.spawnWatched(network, "clan-viewer", binary, [...prefix, ...viewerArguments({ displaySocket, ...config })], {
      onExit: (code) => this.dbusViewerExited(network, code, Date.now() - startedAt),
    });
    return { child, socket: displaySocket, stop: () => child.kill("SIGTERM") };
  }

  private dbusViewerExited(network: string, code: number | null, ranMs: number): void {
    if (code === VIEWER_UNAVAILABLE_EXIT) {
      if (!this.dbusViewerUnavailable) {
        this.options.log(`clan-viewer cannot run on this host (node-gtk is missing or did not build): VMs with display "dbus" are not shown; run scripts/setup.sh, or set the network's display to "spice"`);
      }
      this.dbusViewerUnavailable = true;
      return;
    }
    // 0: the user closed the window; it comes back when the user enters the network again. A VM that stopped or
    // a successor already started needs no restart either.
    if (code === 0 || !this.displays.has(network) || this.hostDisplays.has(network)) return;
    const pause = ranMs >= VIEWER_RESTART.maxMs ? VIEWER_RESTART.firstMs : (this.restartPauses.get(network) ?? VIEWER_RESTART.firstMs);
    this.restartPauses.set(network, Math.min(pause * 2, VIEWER_RESTART.maxMs));
    this.options.log(`${network}: clan-viewer ended while the VM runs; starting it again in ${pause} ms`);
    clearTimeout(this.restartTimers.get(network));
    const timer = setTimeout(() => {
      this.restartTimers.delete(network);
      if (this.displays.has(network) && !this.hostDisplays.has(network)) this.ensureHostDisplay(network);
    }, pause);
    timer.unref();
    this.restartTimers.set(network, timer);
  }

  /**
   * `waypipe client` listens on a socket of clan-sessiond's and forks a child per connection (one per app of the
   * guest's); those children reach the compositor only through clan-wayland-filter, which runs waypipe client as
   * its own child with WAYLAND_DISPLAY set to the filter's socket, and forks a relay per app connection. The host
   * display process is the filter: the windows' Wayland clients are its children. Its own process group, so that
   * stopping it ends them all.
   */
  private startWaypipe(network: string, vm: VmStatus): HostDisplay {
    const clientSocket = this.waypipeClientSocket(network, "waypipe");
    const filterSocket = this.waypipeClientSocket(network, "wayland");
    // No filter, no windows: a guest's app must never reach the compositor's privileged globals.
    try {
      accessSync(this.options.waylandFilter, constants.X_OK);
    } catch (error) {
      throw new Error(`clan-wayland-filter is missing (${errorMessage(error)}); run scripts/setup.sh (npm run build builds it)`, { cause: error });
    }
    // waypipe refuses to bind over a socket left behind by a previous run (it never removes its own).
    rmSync(clientSocket, { force: true });
    const bridges = this.waypipeBridges(network, vm, clientSocket);
    const closeBridges = () => {
      for (const bridge of bridges) bridge.close();
    };
    const waypipeClient = [this.options.waypipeBinary, "--no-gpu", "-s", clientSocket, "client"];
    const filterArgs = ["--listen", filterSocket, "--app-id", network, "--", ...waypipeClient];
    const child = this.spawnWatched(network, "clan-wayland-filter (waypipe client)", this.options.waylandFilter, filterArgs, {
      detached: true,
      onExit: () => {
        closeBridges();
        // A successor for this network has already bound the same path.
        if (this.hostDisplays.has(network)) return;
        try {
          rmSync(clientSocket, { force: true });
        } catch (error) {
          this.options.log(`${network}: cannot remove waypipe's socket: ${errorMessage(error)}`);
        }
      },
    });
    // A client that could not start emits 'error' next, and its onExit closes the bridges; they never open.
    if (child.pid !== undefined) for (const bridge of bridges) bridge.start();
    const stop = () => {
      closeBridges();
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch (error) {
        // ESRCH: the group has already exited, which is what stopping wants.
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") this.options.log(`${network}: cannot stop waypipe client: ${errorMessage(error)}`);
      }
    };
    return { child, socket: vm.displaySocket, stop };
  }

  /**
   * A bridge per waypipe port of the VM, all into the one waypipe client: each session is a connection of its own
   * there, so a child of its own and a relay of its own in the filter. When every port carries an app, the guest
   * cannot open another (its ports are busy, and it says so); the log says it here.
   */
  private waypipeBridges(network: string, vm: VmStatus, clientSocket: string): WaypipeBridge[] {
    // A clan-vmd from before there were several ports names only displaySocket.
    const guestSockets = vm.waypipeSockets.length > 0 ? vm.waypipeSockets : [vm.displaySocket];
    let carrying = 0;
    const sessionChanged = (started: boolean) => {
      carrying += started ? 1 : -1;
      if (started && carrying === guestSockets.length) {
        this.options.log(
          `${network}: all ${guestSockets.length} waypipe ports carry an app; the VM cannot show another app until one of them closes (vm.json waypipe.ports)`,
        );
      }
    };
    return guestSockets.map(
      (guestSocket, port) => new WaypipeBridge({ network, port, guestSocket, clientSocket, log: this.options.log, sessionChanged }),
    );
  }

  /** `<network>-waypipe.sock` (waypipe client's) or `<network>-wayland.sock` (the filter's, plus its `.ctx`). */
  private waypipeClientSocket(network: string, kind: "waypipe" | "wayland"): string {
    const { runtimeDir } = this.options;
    if (runtimeDir === undefined) throw new Error("XDG_RUNTIME_DIR is not set, so clan-sessiond has no private place for waypipe's socket");
    ensurePrivateDirectory(runtimeDir);
    const path = join(runtimeDir, `${network}-${kind}.sock`);
    // The filter's security-context socket is its path with ".ctx" appended.
    if (Buffer.byteLength(path) + (kind === "wayland" ? ".ctx".length : 0) > UNIX_SOCKET_PATH_LIMIT) {
      throw new Error(`waypipe's socket path ${path} is longer than ${UNIX_SOCKET_PATH_LIMIT} bytes; XDG_RUNTIME_DIR is too long`);
    }
    return path;
  }

  private spawnWatched(
    network: string,
    what: string,
    binary: string,
    args: string[],
    options: { detached?: boolean; env?: Record<string, string>; onExit?: (code: number | null) => void },
  ): ChildProcess {
    const child = spawn(binary, args, {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...viewerEnvironment(process.env), ...options.env },
      detached: options.detached ?? false,
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    let exited = false;
    const afterExit = (code: number | null) => {
      if (exited) return;
      exited = true;
      if (this.hostDisplays.get(network)?.child === child) {
        this.hostDisplays.delete(network);
        this.options.pidsChanged();
      }
      if (child.pid !== undefined) this.options.backend()?.releaseWindowsOf(child.pid);
      options.onExit?.(code);
    };
    child.on("error", (error) => {
      this.options.log(`${network}: ${what}: ${errorMessage(error)}`);
      // A process that never started emits no 'exit'.
      if (child.pid === undefined) afterExit(null);
    });
    child.on("exit", (code, signal) => {
      afterExit(code);
      if (code !== 0 && signal === null) this.options.log(`${network}: ${what} exited with ${code}: ${stderr.trim().split("\n").slice(-1)[0] ?? ""}`);
    });
    return child;
  }
}

/**
 * GTK 3 opens Wayland only when XDG_RUNTIME_DIR is set, even for an absolute WAYLAND_DISPLAY (as a daemon
 * started outside the user's login may have): split such a path into the two variables.
 */
function viewerEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const display = env.WAYLAND_DISPLAY;
  if (!display) return { ...env, GDK_BACKEND: "x11" };
  if (!isAbsolute(display)) return { ...env, GDK_BACKEND: "wayland" };
  return { ...env, GDK_BACKEND: "wayland", XDG_RUNTIME_DIR: dirname(display), WAYLAND_DISPLAY: basename(display) };
}
