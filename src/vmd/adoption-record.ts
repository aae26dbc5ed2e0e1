import { readFile, rename, writeFile } from "node:fs/promises";
import { z } from "zod";
import { DisplayKind } from "../shared/display.js";
import { MAX_WAYPIPE_PORTS } from "../shared/vm-spec.js";

// What clan-vmd writes next to a running VM's sockets so that a restarted clan-vmd can find, verify and
// re-adopt it instead of starting a second one or orphaning it.

export const AdoptionRecord = z
  .object({
    network: z.string(),
    pid: z.number().int().positive(),
    generation: z.string(),
    accelerator: z.string(),
    display: DisplayKind,
    /** display waypipe: the VM's number of waypipe ports; a record from before there were several means one. */
    waypipePorts: z.number().int().min(1).max(MAX_WAYPIPE_PORTS).default(1),
    /** The VM's display bus daemon (display "dbus"), stopped with the VM. */
    displayBusPid: z.number().int().positive().optional(),
    startedAt: z.number(),
  })
  .strict();
export type AdoptionRecord = z.infer<typeof AdoptionRecord>;

export async function writeAdoptionRecord(file: string, record: AdoptionRecord): Promise<void> {
  const temporary = `${file}.tmp`;
  await writeFile(temporary, JSON.stringify(record), { mode: 0o600 });
  await rename(temporary, file);
}

export async function readAdoptionRecord(file: string): Promise<AdoptionRecord | { invalid: string }> {
  try {
    return AdoptionRecord.parse(JSON.parse(await readFile(file, "utf8")));
  } catch (error) {
    return { invalid: error instanceof Error ? error.message : String(error) };
  }
}
