// Short texts for the menu. Times are computed when the menu is drawn (it is redrawn when opened), so the
// extension needs no timer to keep "3 min ago" current.

export function formatAge(sinceMs: number, nowMs: number): string {
  if (sinceMs <= 0) return "never";
  const seconds = Math.max(0, Math.round((nowMs - sinceMs) / 1000));
  if (seconds < 60) return "just now";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

/** A progress in 0..1 as a whole percentage; anything else (the daemon's -1 for "none") is empty. */
export function formatProgress(progress: number): string {
  if (!(progress >= 0 && progress <= 1)) return "";
  return `${Math.round(progress * 100)} %`;
}

/** The generation as the user thinks of it: the last path element of a profile link or store path. */
export function formatGeneration(generation: string): string {
  if (generation === "") return "none";
  const parts = generation.split("/").filter((part) => part !== "");
  return parts[parts.length - 1] ?? generation;
}

const VM_STATE_TEXT: Record<string, string> = {
  stopped: "stopped",
  starting: "starting…",
  running: "running",
  paused: "paused",
  stopping: "stopping…",
  failed: "failed",
  unavailable: "unknown (clan-vmd is not running)",
};

export function formatVmState(state: string): string {
  return VM_STATE_TEXT[state] ?? `unknown state "${state.slice(0, 32)}"`;
}

const BACKUP_TEXT: Record<string, string> = {
  unknown: "no backup information",
  ok: "backed up",
  running: "backing up…",
  overdue: "backup overdue",
  failed: "backup failed",
};

export function formatBackup(state: string, lastSuccessMs: number, nowMs: number): string {
  const text = BACKUP_TEXT[state] ?? `backup state "${state.slice(0, 32)}"`;
  if (state === "unknown" && lastSuccessMs <= 0) return text;
  return `${text}, last success ${formatAge(lastSuccessMs, nowMs)}`;
}

/** Colours reach the menu's inline style: anything but "#rrggbb" could inject CSS, so it becomes grey. */
export function safeColour(colour: string): string {
  return /^#[0-9a-fA-F]{6}$/.test(colour) ? colour.toLowerCase() : "#888888";
}
