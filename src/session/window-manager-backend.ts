import type { EventEmitter } from "node:events";

// The one interface through which clan-sessiond meets a window manager: sway and i3 over their IPC
// (src/sway/backend.ts), GNOME Shell over D-Bus (the extension calls WorkspaceFocused).

export interface WindowPlacement {
  network: string;
  workspace: string;
  /** Drawn by the window manager as the `[label]` title prefix: the guest cannot change it. */
  label: string;
  colour: string;
}

export interface BackendEvents {
  /** The user focused a workspace (by its exact name). */
  "workspace-focused": [string];
  /** The connection to the window manager was re-established: callers re-read what they need. */
  reconnected: [];
}

export interface WindowManagerBackend extends EventEmitter<BackendEvents> {
  readonly kind: string;
  focusedWorkspace(): Promise<string | undefined>;
  focusWorkspace(workspace: string): Promise<void>;
  /**
   * Windows of this process, which the host started (a VM's viewer, its waypipe client), belong to a network:
   * move and decorate those already open and every one that appears later. Recognised by pid, never by title.
   */
  claimWindowsOf(pid: number, placement: WindowPlacement): Promise<void>;
  releaseWindowsOf(pid: number): void;
  close(): Promise<void>;
}
