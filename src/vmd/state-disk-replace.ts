import { copyFile, rename, rm, stat } from "node:fs/promises";
import { execa } from "execa";
import { ClanError } from "../shared/errors.js";

// Replacing a stopped VM's state disk (a restore): the new image is checked and copied next to the old one
// first, and only then swapped in by rename, so a failure at any step leaves the old disk in place. The old
// disk stays as state.qcow2.previous until the next replacement.

export async function replaceStateDisk(stateDisk: string, image: string): Promise<void> {
  const check = await execa("qemu-img", ["check", "-q", image], { reject: false });
  if (check.exitCode !== 0) throw new ClanError("InvalidArgument", `${image} is not a sound disk image: ${check.stderr.trim() || check.stdout.trim()}`);
  const incoming = `${stateDisk}.incoming`;
  await copyFile(image, incoming);
  if (await stat(stateDisk).catch(() => undefined)) {
    await rm(`${stateDisk}.previous`, { force: true });
    await rename(stateDisk, `${stateDisk}.previous`);
  }
  await rename(incoming, stateDisk);
}
