import { readFile, readdir } from "node:fs/promises";
import { basename } from "node:path";
import { execa } from "execa";
import { expect } from "vitest";
import { VIEW_MOUNTPOINT } from "../../src/vmd/store-view.js";
import type { VmdClient } from "../../src/shared/vmd-client.js";
import type { StoreGenerations } from "./store-generations.js";

// What the prepared-store-view tests look at from outside clan-vmd: its view holders, what each holder's namespace
// has mounted, and what a real guest sees of /nix/store over virtiofs.

/** clan-vmd's view holders: its children that, having mounted a view, wait as `cat` for their pipe to close. */
export async function holdersOf(vmdPid: number): Promise<number[]> {
  const holders: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, "utf8").catch(() => "");
    if (/^Name:\s+cat$/m.test(status) && new RegExp(`^PPid:\\s+${vmdPid}$`, "m").test(status)) holders.push(Number(entry));
  }
  return holders.sort();
}

/** What the holder's namespace has at the view's mountpoint, read from inside it as root. */
export async function viewOf(holder: number): Promise<string[]> {
  const { stdout } = await execa("nsenter", [`--target=${holder}`, "--user", "--mount", "--preserve-credentials", "--", "ls", "-A", VIEW_MOUNTPOINT]);
  return stdout.split("\n").filter((line) => line !== "").sort();
}

/** Boots `generation` on `network`, lists the guest's /nix/store over virtiofs, and stops the VM. */
export async function bootAndList(api: VmdClient, network: string, generation: string): Promise<string[]> {
  expect((await api.start(network, generation)).state).toBe("running");
  const listing = await api.guestExec(network, ["/bin/sh", "-c", "mkdir -p /nix/store && mount -t virtiofs nix-store /nix/store && ls -A /nix/store"], 30);
  expect(listing).toMatchObject({ exitCode: 0, stderr: "" });
  await api.stop(network);
  return listing.stdout.split("\n").filter((line) => line !== "").sort();
}

/** Generation A's closure, by the names of its store paths, sorted. */
export function closureNamesA(built: StoreGenerations): string[] {
  return [built.generationA, built.libraryA, built.noteA, built.linkA].map((path) => basename(path)).sort();
}

/** Checks that `listing` is generation B's whole closure (built by `run`), by the names Nix gave it, and nothing of A's. */
export function expectClosureB(listing: string[], built: StoreGenerations, run: string): void {
  const closureB = [basename(built.generationB), `clan-store-test-library-b-${run}`, `clan-store-test-note-b-${run}`, `clan-store-test-link-b-${run}`];
  expect(listing).toHaveLength(4);
  for (const name of closureB) expect(listing.some((entry) => entry === name || entry.endsWith(`-${name}`))).toBe(true);
  for (const name of closureNamesA(built)) expect(listing).not.toContain(name);
}
