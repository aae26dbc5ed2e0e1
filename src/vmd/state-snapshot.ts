import { stat } from "node:fs/promises";
import { execa } from "execa";
import { ClanError, errorMessage } from "../shared/errors.js";
import { terminalSafe } from "../shared/untrusted-text.js";
import type { SnapshotReport, VmStatus } from "../shared/vm-api.js";
import type { GuestAgentSession } from "./guest-agent-session.js";
import type { VmPaths } from "./vm-paths.js";

// A consistent copy of a VM's state disk, for backups. A running guest first runs its pre-backup hooks (a
// database dump, say), then its filesystems are frozen for as long as the local copy takes — not for the whole
// backup upload — and thawed in every case. A paused VM's disk is already quiet (QEMU drains and flushes on
// stop); a stopped VM's disk is copied as it is. All three happen in clan-vmd, so no crash of another process
// can leave a guest frozen; a crash of clan-vmd itself is repaired when it re-adopts the VM.


export interface SnapshotRequest {
  status: VmStatus;
  paths: VmPaths;
  agent: GuestAgentSession;
  hooks: string[][];
  target: string;
  log: (message: string) => void;
}

const HOOK_TIMEOUT_MS = 10 * 60_000;

export async function snapshotStateDisk({ status, paths, agent, hooks, target, log }: SnapshotRequest): Promise<SnapshotReport> {
  const started = Date.now();
  if (!(await stat(paths.stateDisk).catch(() => undefined))) {
    throw new ClanError("NotFound", `${status.network} has no state disk (${paths.stateDisk})`);
  }
  if (status.state === "stopping" || status.state === "starting") {
    throw new ClanError("Busy", `${status.network} is ${status.state}; back it up once it has settled`);
  }
  if (status.state !== "running") {
    await copyDisk(paths.stateDisk, target, status.state === "paused");
    return { method: status.state === "paused" ? "paused" : "stopped", frozenFilesystems: 0, hooksRun: 0, durationMs: Date.now() - started };
  }
  for (const argv of hooks) {
    const result = await agent.exec(argv, HOOK_TIMEOUT_MS);
    if (result.exitCode !== 0) {
      throw new ClanError("QemuFailed", `pre-backup hook ${JSON.stringify(argv)} failed in the guest (exit ${result.exitCode}): ${terminalSafe(result.stderr.trim().slice(-300), { multiline: true })}`);
    }
  }
  const frozenFilesystems = await agent.freeze();
  try {
    await copyDisk(paths.stateDisk, target, true);
  } finally {
    await agent.thaw().catch((error: unknown) => log(`${status.network}: THAW FAILED, the guest may stay frozen: ${errorMessage(error)}`));
  }
  return { method: "freeze", frozenFilesystems, hooksRun: hooks.length, durationMs: Date.now() - started };
}

/** Thaws a guest that a previous clan-vmd left frozen when it died in the middle of a snapshot. */
export async function thawIfFrozen(network: string, agent: GuestAgentSession, log: (message: string) => void): Promise<void> {
  if ((await agent.freezeStatus()) !== "frozen") return;
  await agent.thaw();
  log(`${network}: thawed a guest left frozen by an interrupted backup`);
}

async function copyDisk(source: string, target: string, inUse: boolean): Promise<void> {
  // -U reads an image QEMU holds open; the guest is frozen or paused, and QEMU flushed, so the copy is whole.
  const args = ["convert", ...(inUse ? ["-U"] : []), "-O", "qcow2", source, target];
  const result = await execa("qemu-img", args, { reject: false });
  if (result.exitCode !== 0) throw new ClanError("QemuFailed", `qemu-img ${args.join(" ")} failed: ${result.stderr.trim()}`);
}
