import { readFile } from "node:fs/promises";

// Whether the module may read its stdin for clicks. i3blocks 1.4 gives a persistent block its *own* stdin — the
// click stream from i3bar, which it reads itself, signal-driven (O_ASYNC, O_NONBLOCK) — and never passes clicks
// to a running persistent block (measured on Debian 12's i3blocks 1.4). Reading that stream would steal the
// clicks of every other block. A stdin with O_ASYNC set is therefore left alone: it is someone else's input.

/** O_ASYNC on Linux (asm-generic/fcntl.h: 020000 octal). */
const O_ASYNC = 0o20000;

export async function stdinIsSignalDrivenElsewhere(fdinfoPath = "/proc/self/fdinfo/0"): Promise<boolean> {
  let info: string;
  try {
    info = await readFile(fdinfoPath, "utf8");
  } catch (error) {
    // Without /proc (not Linux) there is no i3blocks 1.4 stdin to recognise.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  const flags = /^flags:\s*([0-7]+)$/m.exec(info)?.[1];
  if (flags === undefined) throw new Error(`${fdinfoPath} has no flags line: ${JSON.stringify(info.slice(0, 200))}`);
  return (Number.parseInt(flags, 8) & O_ASYNC) !== 0;
}
