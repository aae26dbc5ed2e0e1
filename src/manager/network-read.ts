import { errorMessage } from "../shared/errors.js";

// Something the window reads from clan-sessiond about the selected network (its build log, its snapshots): one
// read at a time, a change while one is under way asks for one more after it (so a log that grows during a build
// is read again, not once per signal), and a reply for a network no longer selected is dropped.

export type ReadResult<T> = { ok: true; value: T } | { ok: false; error: string };

export class NetworkRead<T> {
  private result: { network: string; result: ReadResult<T> } | undefined;
  private reading: string | undefined;
  private readAgain = false;
  /** Counts forget(): a reply to a read started before the last one is dropped. */
  private epoch = 0;

  constructor(
    private readonly read: (network: string) => Promise<T>,
    private readonly changed: () => void,
  ) {}

  /** What the last read of `network` gave, undefined before it answered. */
  of(network: string): ReadResult<T> | undefined {
    return this.result?.network === network ? this.result.result : undefined;
  }

  /** Whether a read of `network` is under way. */
  isReading(network: string): boolean {
    return this.reading === network;
  }

  /** Changes the value last read of `network` (lines a signal brought); false when there is none to change. */
  amend(network: string, change: (value: T) => T): boolean {
    if (this.result?.network !== network || !this.result.result.ok) return false;
    this.result = { network, result: { ok: true, value: change(this.result.result.value) } };
    return true;
  }

  forget(): void {
    this.result = undefined;
    this.reading = undefined;
    this.readAgain = false;
    this.epoch++;
  }

  refresh(network: string): void {
    if (this.reading === network) {
      this.readAgain = true;
      return;
    }
    const epoch = ++this.epoch;
    this.reading = network;
    this.readAgain = false;
    this.read(network).then(
      (value) => this.answered(epoch, network, { ok: true, value }),
      (error: unknown) => this.answered(epoch, network, { ok: false, error: errorMessage(error) }),
    );
  }

  private answered(epoch: number, network: string, result: ReadResult<T>): void {
    if (epoch !== this.epoch) return;
    this.result = { network, result };
    this.reading = undefined;
    if (this.readAgain) this.refresh(network);
    this.changed();
  }
}
