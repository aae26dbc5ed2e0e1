import { z } from "zod";
import { dictionary, plain } from "./contracts/define.js";

// The payloads of monitoring (contracts/vmd.ts `Figures`, contracts/session.ts `Figures`, `WatchFigures`,
// `FiguresSampled`, `BuildLogChanged`): one sample of a VM's figures and a batch of new build-log lines. Counters
// are cumulative since QEMU started, so a client turns two samples into a rate; -1 marks a figure this VM cannot
// give, and `problems` says why.

/** How many problems a sample names at most, and how long each may be: the guest's words may be among them. */
export const MAX_FIGURE_PROBLEMS = 8;
export const MAX_PROBLEM_CHARS = 300;

const counter = z.number().min(-1);

export const VmFigures = z.object({
  network: z.string(),
  /** Unix time in ms when the figures were read. */
  sampledAt: z.number(),
  /** CPU time QEMU used since it started (user + system), in seconds. */
  cpuSeconds: counter,
  /** QEMU's resident memory, in bytes. */
  memoryBytes: counter,
  /** The guest's memory as the balloon sets it, in bytes; -1 without a balloon device. */
  balloonBytes: counter,
  /**
   * The guest's own report of its memory (virtio-balloon statistics), in bytes: its word, bounded and shown, never
   * acted on; -1 while it reports nothing.
   */
  guestMemoryTotalBytes: counter,
  guestMemoryUsedBytes: counter,
  diskReadBytes: counter,
  diskWriteBytes: counter,
  /** Bytes the guest's interfaces (loopback left out) received and sent, as the guest agent reports them. */
  netReceivedBytes: counter,
  netSentBytes: counter,
  problems: z.array(z.string().max(MAX_PROBLEM_CHARS + 100)).max(MAX_FIGURE_PROBLEMS),
});
export type VmFigures = z.infer<typeof VmFigures>;

export const VmFiguresDictionary = dictionary("VmFigures", VmFigures, {
  network: { codec: "s", doc: "the network's name" },
  sampledAt: { codec: "d", doc: "Unix time in ms when the figures were read" },
  cpuSeconds: { codec: "d", doc: "CPU time QEMU used since it started, user + system, in seconds (/proc/PID/stat)" },
  memoryBytes: { codec: "d", doc: "QEMU's resident memory in bytes (/proc/PID/status `VmRSS`)" },
  balloonBytes: { codec: "d", doc: "the guest's memory as its balloon sets it (QMP `query-balloon`), in bytes; `-1` without a balloon device" },
  guestMemoryTotalBytes: { codec: "d", doc: "the memory the guest says it has (balloon statistics, `stat-total-memory`), in bytes: the guest's word, at most the VM's memory, for display only; `-1` while it reports none" },
  guestMemoryUsedBytes: { codec: "d", doc: "the memory the guest says it uses: its total less what it says is available (`stat-available-memory`, else `stat-free-memory`), in bytes: the guest's word, for display only; `-1` while it reports none" },
  diskReadBytes: { codec: "d", doc: "bytes read from the VM's disks since QEMU started (QMP `query-blockstats`); `-1` when unknown" },
  diskWriteBytes: { codec: "d", doc: "bytes written to the VM's disks since QEMU started; `-1` when unknown" },
  netReceivedBytes: { codec: "d", doc: "bytes the guest's interfaces but loopback received (guest agent `guest-network-get-interfaces`); `-1` when unknown" },
  netSentBytes: { codec: "d", doc: "bytes the guest's interfaces but loopback sent; `-1` when unknown" },
  problems: { codec: plain("as", z.array(z.string())), doc: "what could not be measured and why (at most 8, escaped); `[]` when all was" },
});

export const BuildLogLines = z.object({
  network: z.string(),
  /** The lines the build printed since the last signal, in order (as `BuildLog` keeps them). */
  lines: z.array(z.string()),
  /** These are a new build's first lines: the log before them belongs to an earlier build. */
  first: z.boolean(),
});
export type BuildLogLines = z.infer<typeof BuildLogLines>;

export const BuildLogLinesDictionary = dictionary("BuildLogLines", BuildLogLines, {
  network: { codec: "s", doc: "the network being built" },
  lines: { codec: plain("as", z.array(z.string())), doc: "the lines printed since the last `BuildLogChanged` (at most 400), not escaped" },
  first: { codec: "b", doc: "a new build started: the log before these lines belongs to an earlier build (its first signal may have no lines)" },
});
