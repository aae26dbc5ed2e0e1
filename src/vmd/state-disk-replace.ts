import { copyFile, rename, rm, stat } from "node:fs/promises";
import { execa } from "execa";
import { z } from "zod";
import { ClanError } from "../shared/errors.js";

// Replacing a stopped VM's state disk (a restore): the new image is copied next to the old one first, checked
// there, and only then swapped in by rename, so a failure at any step leaves the old disk in place. The old
// disk stays as state.qcow2.previous until the next replacement.
//
// The image comes from a backup repository that the network's admins may write to, so it is hostile: a qcow2
// header may name a backing file or an external data file — any host file the user can read, such as an SSH key —
// and QEMU would then show that file to the guest as disk contents. Only a plain qcow2 that stands alone is
// accepted. The copy is what gets checked, so the caller cannot swap the file between the check and the copy.

/** The part of `qemu-img info --output=json` that decides; qemu-img is ours, but the header it reads is not. */
const ImageInfo = z.object({
  format: z.string(),
  "backing-filename": z.string().optional(),
  "full-backing-filename": z.string().optional(),
  "format-specific": z.object({ data: z.object({ "data-file": z.string().optional() }).passthrough() }).passthrough().optional(),
});

export async function replaceStateDisk(stateDisk: string, image: string): Promise<void> {
  const incoming = `${stateDisk}.incoming`;
  await copyFile(image, incoming);
  try {
    await requireStandaloneQcow2(incoming, image);
  } catch (error) {
    await rm(incoming, { force: true });
    throw error;
  }
  if (await stat(stateDisk).catch(() => undefined)) {
    await rm(`${stateDisk}.previous`, { force: true });
    await rename(stateDisk, `${stateDisk}.previous`);
  }
  await rename(incoming, stateDisk);
}

async function requireStandaloneQcow2(file: string, shownAs: string): Promise<void> {
  // -f qcow2: never let qemu-img guess the format, since a raw image can hold any header the guest wrote.
  const info = await execa("qemu-img", ["info", "-f", "qcow2", "--output=json", file], { reject: false });
  if (info.exitCode !== 0) {
    throw new ClanError("InvalidArgument", `${shownAs} is not a usable qcow2 image: ${lastLine(info.stderr) || `qemu-img info exited with ${info.exitCode}`}`);
  }
  const parsed = ImageInfo.safeParse(parseJson(info.stdout));
  if (!parsed.success) throw new ClanError("InvalidArgument", `qemu-img info on ${shownAs} printed what this version does not understand`);
  const { format } = parsed.data;
  const backing = parsed.data["full-backing-filename"] ?? parsed.data["backing-filename"];
  const dataFile = parsed.data["format-specific"]?.data["data-file"];
  if (format !== "qcow2") throw new ClanError("InvalidArgument", `${shownAs} is a ${format} image, not qcow2; refused`);
  if (backing !== undefined) {
    throw new ClanError("InvalidArgument", `${shownAs} names a backing file (${quoted(backing)}); a state disk must stand alone, so it is refused`);
  }
  if (dataFile !== undefined) {
    throw new ClanError("InvalidArgument", `${shownAs} keeps its data in an external file (${quoted(dataFile)}); a state disk must stand alone, so it is refused`);
  }
  const check = await execa("qemu-img", ["check", "-q", "-f", "qcow2", file], { reject: false });
  if (check.exitCode !== 0) throw new ClanError("InvalidArgument", `${shownAs} is not a sound disk image: ${check.stderr.trim() || check.stdout.trim()}`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A name from the image's header, shortened and quoted: it is the attacker's text. */
function quoted(name: string): string {
  return JSON.stringify(name.slice(0, 200));
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "";
}
