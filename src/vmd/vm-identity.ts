import { createHash } from "node:crypto";
import { chown } from "node:fs/promises";

// Who QEMU and virtiofsd run as (docs/security.md, "QEMU"). Never root: a guest that takes QEMU over must not
// own the host. A clan-vmd that runs as a user runs them as that user. A clan-vmd that runs as root runs each
// network's helpers as a uid of that network's own, so that one network's QEMU can neither signal nor ptrace
// another's (nothing else, Yama included, stops a process from tracing another of the same uid). The uid is
// derived from the VM's runtime directory, like the namespace names: the same network of the same clan-vmd
// always gets the same uid (its state disk stays its own across restarts), and it needs no /etc/passwd entry.

/** 0x71000000: above the ranges systemd and useradd hand out (dynamic users, containers' 0x80000–0x6fffffff). */
const VM_UID_BASE = 0x7100_0000;
const VM_UID_SPAN = 0x100_0000;

export interface VmIdentity {
  uid: number;
  gid: number;
}

/** The identity to drop to, or undefined when clan-vmd is not root and its helpers simply run as its user. */
export function vmIdentity(runtimeDir: string, effectiveUid = process.geteuid?.() ?? 0): VmIdentity | undefined {
  if (effectiveUid !== 0) return undefined;
  const hash = createHash("sha256").update(runtimeDir).digest().readUInt32BE(0);
  const id = VM_UID_BASE + (hash % VM_UID_SPAN);
  return { uid: id, gid: id };
}

/** `binary args` run as `identity`, with no supplementary groups, no capabilities and no way to regain either. */
export function asIdentity(identity: VmIdentity | undefined, binary: string, args: string[]): [string, string[]] {
  const [first, ...rest] = [...identityPrefix(identity), binary, ...args];
  return [first!, rest];
}

/** The command prefix of asIdentity: empty without an identity. */
export function identityPrefix(identity: VmIdentity | undefined): string[] {
  if (!identity) return [];
  return ["setpriv", `--reuid=${identity.uid}`, `--regid=${identity.gid}`, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"];
}

/** Hands a file or directory clan-vmd made to the identity; nothing to do when the helpers run as clan-vmd's user. */
export async function giveTo(identity: VmIdentity | undefined, path: string): Promise<void> {
  if (identity) await chown(path, identity.uid, identity.gid);
}
