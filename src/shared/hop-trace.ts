import { appendFileSync } from "node:fs";

// Where the time of a workspace switch goes, across processes (docs/benchmarks.md, "Where a resume's time goes"):
// with CLAN_TRACE_HOPS=FILE, each process notes every hop of a switch — the window manager's event read, the
// reconciler's decision, clan-vmd's QMP `cont` sent and answered, the signals sent and received — as a line
// `<nanoseconds> <pid> <hop> <subject>` appended to FILE. The time is CLOCK_MONOTONIC (process.hrtime), the one
// clock every process of the machine shares. Lines are kept in memory and written when the process exits, so
// that writing never falls inside a switch. Off by default: then `traceHop` is undefined, and a call site costs
// one check of it.

export type TraceHop = (hop: string, subject: string) => void;

/** Kept lines past this many are written at once, so that a long run cannot grow the process without end. */
const MAX_PENDING_LINES = 10_000;

function traceTo(file: string): TraceHop {
  const pending: string[] = [];
  const write = () => {
    if (pending.length > 0) appendFileSync(file, pending.splice(0).join(""));
  };
  process.on("exit", write);
  return (hop, subject) => {
    pending.push(`${process.hrtime.bigint()} ${process.pid} ${hop} ${subject}\n`);
    if (pending.length >= MAX_PENDING_LINES) write();
  };
}

export const traceHop: TraceHop | undefined = process.env.CLAN_TRACE_HOPS ? traceTo(process.env.CLAN_TRACE_HOPS) : undefined;
