// Everything enable() creates is registered here as a way to undo it: signal connections, main-loop sources,
// widgets, D-Bus watches and proxies, keybindings. disable() runs them all in reverse order, so nothing the
// extension made outlives it, and a failing undo does not stop the others.

export class Lifetime {
  private undos: { what: string; undo: () => void }[] = [];
  private ended = false;

  constructor(private readonly report: (message: string) => void) {}

  /** Registers an undo; returns a function that runs it early (and forgets it). */
  add(what: string, undo: () => void): () => void {
    if (this.ended) {
      // Something finished after disable() (an async reply): undo it at once rather than leak it.
      this.run({ what, undo });
      return () => undefined;
    }
    const entry = { what, undo };
    this.undos.push(entry);
    return () => {
      const index = this.undos.indexOf(entry);
      if (index < 0) return;
      this.undos.splice(index, 1);
      this.run(entry);
    };
  }

  get size(): number {
    return this.undos.length;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Child lifetimes end with their parent, and can end earlier (a proxy's signals when the name vanishes). */
  child(what: string): Lifetime {
    const child = new Lifetime(this.report);
    const remove = this.add(what, () => child.end());
    child.add(`${what} (detach from parent)`, () => remove());
    return child;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    while (this.undos.length > 0) this.run(this.undos.pop()!);
  }

  private run(entry: { what: string; undo: () => void }): void {
    try {
      entry.undo();
    } catch (error) {
      this.report(`cannot undo ${entry.what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
