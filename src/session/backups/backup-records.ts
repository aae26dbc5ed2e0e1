import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { errorMessage } from "../../shared/errors.js";

// What clan-sessiond remembers about each network's backups across restarts and reboots, in
// $XDG_STATE_HOME/clan-desktop/backups.json: the schedule's catch-up needs the last success, the bar its time and
// the last error, and the overdue notification must not repeat after a restart. Written by rename, so a crash
// leaves the old file or the new one, never half of one.

const Record_ = z
  .object({
    /** When clan-sessiond first saw a backup configured for the network (Unix ms). */
    firstConfigured: z.number(),
    lastSuccess: z.number().optional(),
    lastAttempt: z.number().optional(),
    /** Why the last attempt failed; "" when it succeeded. */
    lastError: z.string().default(""),
    /** The lastSuccess (0 for never) whose overdue stretch the user was already told about. */
    overdueNotifiedFor: z.number().optional(),
    /** The repository that repositorySize and freeSpace were measured at. */
    repository: z.string().optional(),
    repositorySize: z.number().optional(),
    freeSpace: z.number().optional(),
    /** Bytes of each snapshot's image by restic snapshot id (or its 8-digit short form): snapshots never change,
     *  so each is measured once. */
    snapshotSizes: z.record(z.string(), z.number()).default({}),
  })
  .strict();
export type BackupRecord = z.output<typeof Record_>;

const RecordsFile = z.object({ version: z.literal(1), networks: z.record(z.string(), Record_) }).strict();

export class BackupRecords {
  private records = new Map<string, BackupRecord>();
  private saving: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string) {}

  /** Reads the file; a missing one is a first start, an unreadable one is reported and replaced. */
  static async load(file: string, log: (message: string) => void): Promise<BackupRecords> {
    const store = new BackupRecords(file);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") log(`cannot read ${file}, backup history starts afresh: ${errorMessage(error)}`);
      return store;
    }
    try {
      const parsed = RecordsFile.parse(JSON.parse(text));
      store.records = new Map(Object.entries(parsed.networks));
    } catch (error) {
      log(`${file} is invalid, backup history starts afresh: ${errorMessage(error).slice(0, 300)}`);
    }
    return store;
  }

  get(network: string): BackupRecord | undefined {
    return this.records.get(network);
  }

  /** The network's record, created (and saved) now if it has none: the moment its backup was first configured. */
  async ensure(network: string, now: number): Promise<BackupRecord> {
    const record = this.records.get(network);
    if (record) return record;
    return this.update(network, now, {});
  }

  async update(network: string, now: number, change: Partial<BackupRecord>): Promise<BackupRecord> {
    const current = this.records.get(network) ?? { firstConfigured: now, lastError: "", snapshotSizes: {} };
    const next = { ...current, ...change };
    this.records.set(network, next);
    await this.save();
    return next;
  }

  /** One write at a time, each of the whole current state: the last one to finish is the newest. */
  private save(): Promise<void> {
    const write = async () => {
      const content: z.input<typeof RecordsFile> = { version: 1, networks: Object.fromEntries(this.records) };
      await mkdir(dirname(this.file), { recursive: true });
      const temporary = `${this.file}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
      await rename(temporary, this.file);
    };
    const saved = this.saving.then(write, write);
    this.saving = saved;
    return saved;
  }
}
