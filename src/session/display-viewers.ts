import { spawn, type ChildProcess } from "node:child_process";
import { basename, dirname, isAbsolute } from "node:path";
import { errorMessage } from "../shared/errors.js";
import type { VmStatus } from "../shared/vm-api.js";
import type { NetworkRegistry } from "./network-registry.js";
import type { WindowManagerBackend } from "./window-manager-backend.js";

// Each running VM with a SPICE display gets a viewer window, started by the host and therefore recognised by
// its pid: it is placed on the network's first workspace and decorated there by the window manager. The
// viewer stops with the VM; a viewer the user closed comes back the next time they enter the network.

export interface DisplayViewersOptions {
  registry: NetworkRegistry;
  backend: () => WindowManagerBackend | undefined;
  viewerBinary: string;
  log: (message: string) => void;
}

interface Viewer {
  child: ChildProcess;
  socket: string;
}

export class DisplayViewers {
  private readonly viewers = new Map<string, Viewer>();
  private readonly displays = new Map<string, VmStatus>();

  constructor(private readonly options: DisplayViewersOptions) {}

  pidOf(network: string): number | undefined {
    return this.viewers.get(network)?.child.pid;
  }

  vmChanged(vm: VmStatus): void {
    if (vm.state === "running" && vm.display === "spice" && vm.displaySocket) {
      this.displays.set(vm.network, vm);
      this.ensureViewer(vm.network);
    } else if (vm.state === "stopped" || vm.state === "failed" || vm.state === "stopping") {
      this.displays.delete(vm.network);
      this.closeViewer(vm.network);
    }
  }

  networkEntered(network: string): void {
    if (this.displays.has(network)) this.ensureViewer(network);
  }

  closeAll(): void {
    for (const network of [...this.viewers.keys()]) this.closeViewer(network);
  }

  private ensureViewer(network: string): void {
    const vm = this.displays.get(network);
    const config = this.options.registry.config(network);
    if (!vm || !config) return;
    const existing = this.viewers.get(network);
    if (existing && existing.socket === vm.displaySocket && existing.child.exitCode === null) return;
    if (existing) this.closeViewer(network);
    // The socket path comes from clan-vmd, never from the guest; it is one argv element, never a shell word.
    const child = spawn(this.options.viewerBinary, [`spice+unix://${vm.displaySocket}`], {
      stdio: ["ignore", "ignore", "pipe"],
      env: viewerEnvironment(process.env),
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    child.on("error", (error) => this.options.log(`${network}: viewer failed to start: ${errorMessage(error)}`));
    child.on("exit", (code, signal) => {
      if (this.viewers.get(network)?.child === child) this.viewers.delete(network);
      if (child.pid !== undefined) this.options.backend()?.releaseWindowsOf(child.pid);
      if (code !== 0 && signal === null) this.options.log(`${network}: viewer exited with ${code}: ${stderr.trim().split("\n").slice(-1)[0] ?? ""}`);
    });
    this.viewers.set(network, { child, socket: vm.displaySocket });
    const pid = child.pid;
    const workspace = config.workspaces[0];
    const backend = this.options.backend();
    if (pid === undefined || workspace === undefined || !backend) return;
    backend
      .claimWindowsOf(pid, { network, workspace, label: config.label, colour: config.colour })
      .catch((error: unknown) => this.options.log(`${network}: cannot place the viewer: ${errorMessage(error)}`));
  }

  private closeViewer(network: string): void {
    const viewer = this.viewers.get(network);
    if (!viewer) return;
    this.viewers.delete(network);
    if (viewer.child.pid !== undefined) this.options.backend()?.releaseWindowsOf(viewer.child.pid);
    viewer.child.kill("SIGTERM");
  }
}

/**
 * GTK 3 opens Wayland only when XDG_RUNTIME_DIR is set, even for an absolute WAYLAND_DISPLAY (as a daemon
 * started outside the user's login may have): split such a path into the two variables.
 */
export function viewerEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const display = env.WAYLAND_DISPLAY;
  if (!display) return { ...env, GDK_BACKEND: "x11" };
  if (!isAbsolute(display)) return { ...env, GDK_BACKEND: "wayland" };
  return { ...env, GDK_BACKEND: "wayland", XDG_RUNTIME_DIR: dirname(display), WAYLAND_DISPLAY: basename(display) };
}
