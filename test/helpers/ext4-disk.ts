import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";

// ext4 state disks for the test guest, which mounts one at /state (test/guest/init.sh), and a look inside any
// qcow2 image of one from the host with e2fsprogs — without mounting it, so a test needs no loop device.

/** Writes an empty ext4 filesystem as the qcow2 image `path`, e.g. a VM's state disk before its first start. */
export async function makeExt4Disk(path: string, sizeMiB = 64): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const raw = `${path}.raw`;
  try {
    await execa("truncate", ["--size", `${sizeMiB}M`, raw]);
    await execa("mkfs.ext4", ["-q", "-F", "-L", "state", raw]);
    await execa("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, path]);
  } finally {
    await rm(raw, { force: true });
  }
}

export interface Ext4Image {
  /** The superblock's feature flags, as dumpe2fs names them ("has_journal", "needs_recovery", …). */
  features: string[];
  /** A file's content, or undefined when the filesystem has no such file. */
  files: Record<string, string | undefined>;
}

/** Reads the features and the named files of the ext4 filesystem in a qcow2 image (which QEMU may hold open). */
export async function inspectExt4Image(qcow2: string, files: string[]): Promise<Ext4Image> {
  const dir = await mkdtemp(join(tmpdir(), "clan-ext4-"));
  try {
    const raw = join(dir, "disk.raw");
    await execa("qemu-img", ["convert", "-U", "-q", "-O", "raw", qcow2, raw]);
    const { stdout } = await execa("dumpe2fs", ["-h", raw], { stderr: "ignore" });
    const features = /^Filesystem features:\s*(.*)$/m.exec(stdout)?.[1]?.trim().split(/\s+/) ?? [];
    const contents: Record<string, string | undefined> = {};
    for (const file of files) {
      const result = await execa("debugfs", ["-R", `cat ${file}`, raw], { reject: false, stripFinalNewline: false });
      contents[file] = /File not found/.test(result.stderr) ? undefined : result.stdout;
    }
    return { features, files: contents };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
