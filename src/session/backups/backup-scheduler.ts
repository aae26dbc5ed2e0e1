import { errorMessage } from "../../shared/errors.js";
import type { BackupRecord } from "./backup-records.js";
import { nextDue, nextEvent, type BackupTiming } from "./backup-schedule.js";

// Wakes when the next thing happens by time alone — a backup falls due, a network becomes overdue — runs the
// backups that are due, one after another, and sleeps again. A timer counts monotonic time, which stands still
// while the computer sleeps, so it is never set further than MAX_SLEEP_MS ahead: after a suspend, due backups
// start within that time of waking, measured by the wall clock (backup-schedule.ts).

const MAX_SLEEP_MS = 15 * 60_000;
const MIN_SLEEP_MS = 1000;

export interface ScheduledNetwork {
  network: string;
  timing: BackupTiming;
  record: BackupRecord;
}

export interface SchedulerHooks {
  now(): number;
  /** Every network with a backup configured, each with a record (created when it had none). */
  networks(): Promise<ScheduledNetwork[]>;
  /** Whether backups can run now: clan-vmd is there to copy the state disk. */
  canRun(): boolean;
  /** Publishes the network's backup state as of now, and tells the user when it has just become overdue. */
  refresh(network: string): Promise<void>;
  /** Runs one backup; records, publishes and reports its outcome itself. */
  backUp(network: string): Promise<void>;
  log(message: string): void;
}

export class BackupScheduler {
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private pokedWhileTicking = false;
  private closed = false;

  constructor(private readonly hooks: SchedulerHooks) {}

  /** Looks at every network again now: after a config change, or when clan-vmd appears. */
  poke(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    void this.tick();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.ticking) {
      this.pokedWhileTicking = true;
      return;
    }
    this.ticking = true;
    try {
      for (const { network } of await this.hooks.networks()) await this.hooks.refresh(network);
      if (this.hooks.canRun()) {
        const now = this.hooks.now();
        const due = (await this.hooks.networks()).filter(({ record, timing }) => nextDue(record, timing) <= now);
        for (const { network } of due) {
          if (this.closed || !this.hooks.canRun()) break;
          await this.hooks.backUp(network);
        }
      }
      await this.sleepUntilNextEvent();
    } catch (error) {
      this.hooks.log(`backup schedule: ${errorMessage(error)}; looking again in ${MAX_SLEEP_MS / 60_000} minutes`);
      this.sleep(MAX_SLEEP_MS);
    } finally {
      this.ticking = false;
    }
    if (this.pokedWhileTicking) {
      this.pokedWhileTicking = false;
      this.poke();
    }
  }

  /** A backup still due now could not run (clan-vmd is away, a restore holds the network): it is tried again
   *  at the latest wake-up, or when poked. */
  private async sleepUntilNextEvent(): Promise<void> {
    const now = this.hooks.now();
    const networks = await this.hooks.networks();
    if (networks.length === 0) return;
    const upcoming = networks.map(({ record, timing }) => nextEvent(record, timing, now)).filter((time) => time > now);
    this.sleep(Math.min(Math.max(Math.min(...upcoming) - now, MIN_SLEEP_MS), MAX_SLEEP_MS));
  }

  private sleep(delay: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delay);
  }
}
