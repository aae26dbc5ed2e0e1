import { z } from "zod";
import { ClanError } from "../shared/errors.js";
import { GuestAgentClient, expectReply } from "./guest-agent-client.js";

// QEMU's guest-agent chardev takes one client at a time, so clan-vmd is that client and offers what callers
// need (freeze, thaw, exec) over D-Bus. The connection is opened on first use and again after it breaks.

const EXEC_OUTPUT_LIMIT = 64 * 1024;

const ExecStarted = z.object({ pid: z.number() }).loose();
const ExecStatus = z
  .object({ exited: z.boolean(), exitcode: z.number().optional(), "out-data": z.string().optional(), "err-data": z.string().optional() })
  .loose();

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class GuestAgentSession {
  private client: GuestAgentClient | undefined;

  constructor(private readonly socketPath: string) {}

  async freeze(): Promise<number> {
    return (await this.connected()).freeze(60_000);
  }

  async thaw(): Promise<number> {
    return (await this.connected()).thaw(30_000);
  }

  async freezeStatus(): Promise<"thawed" | "frozen"> {
    return (await this.connected()).freezeStatus();
  }

  /** Runs argv in the guest and waits for it; output is cut at 64 KiB per stream (the guest is untrusted). */
  async exec(argv: string[], timeoutMs: number): Promise<ExecResult> {
    const [path, ...args] = argv;
    if (!path) throw new ClanError("InvalidArgument", "a guest command needs at least a program");
    const agent = await this.connected();
    const started = expectReply(ExecStarted, await agent.execute("guest-exec", { path, arg: args, "capture-output": true }, 10_000), "guest-exec");
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = expectReply(ExecStatus, await agent.execute("guest-exec-status", { pid: started.pid }, 10_000), "guest-exec-status");
      if (status.exited) {
        return {
          exitCode: status.exitcode ?? -1,
          stdout: decodeOutput(status["out-data"]),
          stderr: decodeOutput(status["err-data"]),
        };
      }
      if (Date.now() > deadline) throw new ClanError("Timeout", `${path} did not finish in the guest within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The guest's interfaces with their counters: the guest's words, which vm-figures.ts validates. */
  async networkInterfaces(): Promise<unknown> {
    return (await this.connected()).execute("guest-network-get-interfaces", undefined, 3000);
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }

  private async connected(): Promise<GuestAgentClient> {
    if (this.client && !this.client.closed) return this.client;
    // Generous: a reconnection can go unanswered for seconds (see GuestAgentClient.synchronise).
    this.client = await GuestAgentClient.connect(this.socketPath, 30_000);
    return this.client;
  }
}

function decodeOutput(data: string | undefined): string {
  if (data === undefined) return "";
  return Buffer.from(data.slice(0, Math.ceil((EXEC_OUTPUT_LIMIT * 4) / 3)), "base64").toString("utf8");
}
