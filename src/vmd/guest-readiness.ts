import { setTimeout as sleep } from "node:timers/promises";
import { ClanError } from "../shared/errors.js";
import { describeUntrusted } from "../shared/untrusted-text.js";
import { CONTROL_MAX_LINE, GuestMessage } from "./control-port.js";
import { GuestAgentClient } from "./guest-agent-client.js";
import { JsonLineConnection } from "./json-lines.js";
import type { VmSpec } from "../shared/vm-spec.js";
import type { VmPaths } from "./vm-paths.js";
import { whyStartCancelled } from "./start-cancel.js";

// Ready means the guest said so. With "control-port" readiness our VM controller's {"type":"ready"} line is
// the proof; with "guest-agent" a guest-ping answered by qemu-ga is. Both wait within the generation's limit
// and give up at once when the start is cancelled or QEMU dies.

export interface ReadyGuest {
  /** The open control-port connection, kept for later host → guest messages. */
  control: JsonLineConnection;
  reportedGeneration: string;
}

export interface ReadinessOptions {
  vm: VmSpec;
  paths: VmPaths;
  signal: AbortSignal;
  onInvalidMessage: (why: string) => void;
}

export async function waitForGuestReady({ vm, paths, signal, onInvalidMessage }: ReadinessOptions): Promise<ReadyGuest> {
  const timeoutMs = vm.readyTimeoutSeconds * 1000;
  const control = await JsonLineConnection.open(paths.controlSocket, { maxLineBytes: CONTROL_MAX_LINE, timeoutMs: 5000 });
  control.on("invalid", onInvalidMessage);
  try {
    if (vm.readiness === "guest-agent") {
      await pingGuestAgent(paths.guestAgentSocket, timeoutMs, signal);
      return { control, reportedGeneration: "" };
    }
    return { control, reportedGeneration: await readyMessage(control, timeoutMs, signal, onInvalidMessage) };
  } catch (error) {
    control.close();
    throw error;
  }
}

function readyMessage(
  control: JsonLineConnection,
  timeoutMs: number,
  signal: AbortSignal,
  onInvalidMessage: (why: string) => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const finish = (outcome: () => void) => {
      clearTimeout(timer);
      control.off("message", onMessage);
      control.off("close", onClose);
      signal.removeEventListener("abort", onAbort);
      outcome();
    };
    const onMessage = (raw: unknown) => {
      const message = GuestMessage.safeParse(raw);
      if (!message.success) {
        onInvalidMessage(`unexpected control-port message: ${describeUntrusted(raw)}`);
        return;
      }
      if (message.data.type === "ready") {
        const generation = message.data.generation;
        finish(() => resolve(generation));
      }
    };
    const onClose = () => finish(() => reject(new ClanError("Disconnected", "control port closed before the guest was ready")));
    const onAbort = () => finish(() => reject(whyStartCancelled(signal)));
    const timer = setTimeout(
      () => finish(() => reject(new ClanError("Timeout", `guest did not report ready within ${timeoutMs / 1000} s`))),
      timeoutMs,
    );
    control.on("message", onMessage);
    control.on("close", onClose);
    signal.addEventListener("abort", onAbort);
  });
}

async function pingGuestAgent(socket: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (signal.aborted) throw whyStartCancelled(signal);
    try {
      const agent = await GuestAgentClient.connect(socket, Math.min(2000, deadline - Date.now()));
      agent.close();
      return;
    } catch (error) {
      lastError = error;
      await sleep(200);
    }
  }
  throw new ClanError("Timeout", `guest agent did not answer within ${timeoutMs / 1000} s`, { cause: lastError });
}
