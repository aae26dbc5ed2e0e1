// Everything a benchmark starts (dbus-daemon, clan-vmd, QEMU) is registered here as it starts. A benchmark's
// own `finally` undoes it in the normal and the failing case; an interrupt (Ctrl-C) runs what is still
// registered before the runner exits, so no VM outlives the run.

type Undo = () => Promise<void>;

const pending = new Set<Undo>();

/** Registers `undo`; the returned function runs it once (later callers wait for that run) and unregisters it. */
export function registerCleanup(undo: Undo): Undo {
  let running: Promise<void> | undefined;
  const once: Undo = () => {
    pending.delete(once);
    running ??= undo();
    return running;
  };
  pending.add(once);
  return once;
}

export async function cleanUpEverything(): Promise<void> {
  // Last started, first stopped: a VM goes before the daemon that owns it, the daemon before its bus.
  for (const undo of [...pending].reverse()) {
    await undo().catch((error: unknown) => process.stderr.write(`cleanup failed: ${String(error)}\n`));
  }
}
