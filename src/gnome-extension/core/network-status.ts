import { NETWORK_STATUS_DEFAULTS, NETWORK_STATUS_FIELDS, NETWORK_STATUS_ITEM_FIELDS, type NetworkStatusFields } from "./session-contract.js";

// A network's status as clan-sessiond publishes it (the a{sv} of NetworkChanged and ListNetworks); its fields,
// their types and defaults are generated from src/shared/session-api.ts into session-contract.ts. GNOME Shell
// has no zod, so the extension checks the unpacked dictionary here itself: a field of the wrong type is an
// error, a value this version does not know (a newer daemon's state) is kept and shown as unknown rather than
// breaking the menu.

export type NetworkStatus = NetworkStatusFields;
type ShareAccess = NetworkStatus["shares"][number];

type FieldKind = (typeof NETWORK_STATUS_FIELDS)[keyof typeof NETWORK_STATUS_FIELDS]["kind"];

/** Longer strings are cut: a guest-influenced error message must not grow the panel menu without bound. */
const MAX_TEXT = 512;

function hasKind(value: unknown, kind: FieldKind): boolean {
  if (kind === "string[]") return Array.isArray(value) && value.every((item) => typeof item === "string");
  if (kind === "share[]" || kind === "forward[]") {
    const fields = Object.entries(NETWORK_STATUS_ITEM_FIELDS[kind]);
    return (
      Array.isArray(value) &&
      value.every((item) => typeof item === "object" && item !== null && fields.every(([key, type]) => typeof (item as Record<string, unknown>)[key] === type))
    );
  }
  if (kind === "number") return typeof value === "number" && Number.isFinite(value);
  return typeof value === kind;
}

/** A share's path and tag come from the network's vm.json: cut like any other text before they reach the menu. */
function cutShare(share: ShareAccess): ShareAccess {
  return { tag: share.tag.slice(0, MAX_TEXT), path: share.path.slice(0, MAX_TEXT), readWrite: share.readWrite, granted: share.granted };
}

export function decodeNetworkStatus(raw: unknown): NetworkStatus {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error("network status is not a dictionary");
  const input = raw as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const [key, { kind }] of Object.entries(NETWORK_STATUS_FIELDS) as [keyof NetworkStatus, { kind: FieldKind }][]) {
    const value = input[key];
    if (value === undefined && key in NETWORK_STATUS_DEFAULTS) {
      result[key] = NETWORK_STATUS_DEFAULTS[key];
      continue;
    }
    if (!hasKind(value, kind)) throw new Error(`network status field ${key} must be ${kind}, got ${typeof value}`);
    result[key] = typeof value === "string" ? value.slice(0, MAX_TEXT) : kind === "share[]" ? (value as ShareAccess[]).map(cutShare) : value;
  }
  const status = result as unknown as NetworkStatus;
  if (status.name === "") throw new Error("network status has an empty name");
  if (status.label === "") status.label = status.name;
  return status;
}
