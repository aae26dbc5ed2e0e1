import { ClanError } from "../../shared/errors.js";
import type { NetworkStatus } from "../../shared/session-api.js";
import { WireVariant, type WireValue } from "./wire-values.js";

// A network's status (the a{sv} of ListNetworks and GetNetwork) as clanctl's one-shot commands read it: without
// zod, whose loading alone costs more than these commands may take. Each field's D-Bus type is checked against
// the table below, which the compiler holds to NetworkStatus's fields and a unit test to clan-sessiond's
// encoder; the values of enumerations are not checked and stay strings, shown as text only.

type FieldSignature = "s" | "b" | "d" | "u" | "as" | "aa{sv}";

/** NetworkStatus with its enumerations widened to the strings the wire carries. */
export type WireNetworkStatus = { [K in keyof NetworkStatus]: NetworkStatus[K] extends string ? string : NetworkStatus[K] };

export const NETWORK_STATUS_FIELDS = {
  name: "s",
  label: "s",
  colour: "s",
  workspaces: "as",
  sourceKind: "s",
  vmState: "s",
  generation: "s",
  error: "s",
  focused: "b",
  backupState: "s",
  backupLastSuccess: "d",
  backupLastAttempt: "d",
  backupError: "s",
  backupWarning: "s",
  backupNextDue: "d",
  backupRepositorySize: "d",
  backupFreeSpace: "d",
  updateAvailable: "b",
  buildState: "s",
  buildProgress: "d",
  vpnState: "s",
  vpnPeers: "u",
  vpnLastHandshake: "d",
  shares: "aa{sv}",
  forwards: "aa{sv}",
  networkMode: "s",
  jobId: "s",
  jobKind: "s",
  jobPhase: "s",
  jobProgress: "d",
} as const satisfies Record<keyof NetworkStatus, FieldSignature>;

const SHARE_FIELDS = { tag: "s", path: "s", readWrite: "b", granted: "b" } as const satisfies Record<keyof NetworkStatus["shares"][number], FieldSignature>;
const FORWARD_FIELDS = { hostPort: "u", guestPort: "u" } as const satisfies Record<keyof NetworkStatus["forwards"][number], FieldSignature>;

/** What a clan-sessiond from before these fields sends none of. */
const DEFAULTS: Partial<Record<keyof NetworkStatus, WireValue>> = { sourceKind: "flake", shares: [], forwards: [], networkMode: "" };

export function decodeWireNetworkStatus(raw: WireValue | undefined): WireNetworkStatus {
  const status = decodeDictionary(raw, NETWORK_STATUS_FIELDS, DEFAULTS, "a network status");
  return {
    ...status,
    shares: (status.shares as WireValue[]).map((share) => decodeDictionary(share, SHARE_FIELDS, {}, "a share")),
    forwards: (status.forwards as WireValue[]).map((forward) => decodeDictionary(forward, FORWARD_FIELDS, {}, "a port forward")),
  } as WireNetworkStatus;
}

function decodeDictionary<K extends string>(
  raw: WireValue | undefined,
  fields: Record<K, FieldSignature>,
  defaults: Partial<Record<K, WireValue>>,
  what: string,
): Record<K, WireValue> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw) || raw instanceof WireVariant) {
    throw new ClanError("Protocol", `clan-sessiond sent ${what} that is not a dictionary`);
  }
  const decoded = {} as Record<K, WireValue>;
  for (const key of Object.keys(fields) as K[]) {
    const variant = Object.hasOwn(raw, key) ? raw[key] : undefined;
    if (variant === undefined) {
      if (!Object.hasOwn(defaults, key)) throw new ClanError("Protocol", `clan-sessiond sent ${what} without "${key}": is it an older version?`);
      decoded[key] = defaults[key]!;
      continue;
    }
    if (!(variant instanceof WireVariant) || variant.signature !== fields[key]) {
      const got = variant instanceof WireVariant ? variant.signature : "no variant";
      throw new ClanError("Protocol", `clan-sessiond sent ${what} whose "${key}" is of type ${got}, not ${fields[key]}`);
    }
    decoded[key] = variant.value;
  }
  return decoded;
}
