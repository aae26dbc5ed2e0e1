import { ClanError } from "../../shared/errors.js";
import type { NetworkStatus } from "../../shared/session-api.js";
import { NETWORK_STATUS_DEFAULTS, NETWORK_STATUS_FIELDS, NETWORK_STATUS_ITEM_FIELDS } from "./network-status-fields.js";
import { WireVariant, type WireValue } from "./wire-values.js";

// A network's status (the a{sv} of ListNetworks and GetNetwork) as clanctl's one-shot commands read it: without
// zod, whose loading alone costs more than these commands may take. Each field's D-Bus type is checked against
// the tables generated from the contract (network-status-fields.ts); the values of enumerations are not checked
// and stay strings, shown as text only.

type FieldSignature = "s" | "b" | "d" | "u" | "as" | "aa{sv}";

/** NetworkStatus with its enumerations widened to the strings the wire carries. */
export type WireNetworkStatus = { [K in keyof NetworkStatus]: NetworkStatus[K] extends string ? string : NetworkStatus[K] };

// Generated from the contract (npm run schemas); the compiler holds the tables to NetworkStatus's fields.
const FIELDS: Record<keyof NetworkStatus, FieldSignature> = NETWORK_STATUS_FIELDS;
const SHARE_FIELDS: Record<keyof NetworkStatus["shares"][number], FieldSignature> = NETWORK_STATUS_ITEM_FIELDS.shares;
const FORWARD_FIELDS: Record<keyof NetworkStatus["forwards"][number], FieldSignature> = NETWORK_STATUS_ITEM_FIELDS.forwards;
const DEFAULTS: Partial<Record<keyof NetworkStatus, WireValue>> = NETWORK_STATUS_DEFAULTS;

export function decodeWireNetworkStatus(raw: WireValue | undefined): WireNetworkStatus {
  const status = decodeDictionary(raw, FIELDS, DEFAULTS, "a network status");
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
