import { ClanError } from "../shared/errors.js";

// A start in progress is cancelled through its AbortSignal: by a stop, or because QEMU was lost while the guest
// booted. The caller of Start must learn which, so the supervisor aborts with a ClanError naming the cause.

/** A dying QEMU closes its control port a moment before clan-vmd hears its QMP socket close. */
const QMP_LOSS_GRACE_MS = 1000;

/** The error a cancelled start ends with: the reason it was aborted with, or a stop's. */
export function whyStartCancelled(signal: AbortSignal): ClanError {
  return signal.reason instanceof ClanError ? signal.reason : new ClanError("InvalidState", "start was cancelled by a stop");
}

/**
 * Whether a failed start failed because QEMU was lost (the supervisor then aborts it with a QemuFailed reason).
 * While QMP is still attached, the news may be a moment behind the failure it caused: wait that moment.
 */
export async function startLostQemu(signal: AbortSignal, qmpAttached: boolean): Promise<boolean> {
  if (!signal.aborted && qmpAttached) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, QMP_LOSS_GRACE_MS);
      signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
  return signal.aborted && signal.reason instanceof ClanError && signal.reason.code === "QemuFailed";
}
