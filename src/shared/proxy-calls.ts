import type { ClientInterface } from "@jellybrick/dbus-next";
import { fromDbusError } from "./dbus-errors.js";
import { ClanError } from "./errors.js";

// What both typed clients (clan-vmd's, clan-sessiond's) do with a dbus-next proxy: call a member by name with a
// clear error when the daemon is too old to have it, and turn signal payloads into validated values.

export async function callMember(proxy: ClientInterface, daemon: string, method: string, args: unknown[]): Promise<unknown> {
  const fn = (proxy as unknown as Record<string, unknown>)[method] as ((...a: unknown[]) => Promise<unknown>) | undefined;
  if (!fn) throw new ClanError("Protocol", `${daemon} does not offer ${method}: is it an older version?`);
  try {
    return await fn.apply(proxy, args);
  } catch (error) {
    throw fromDbusError(error);
  }
}

/** Subscribes to a signal whose single argument `decode` validates; returns the unsubscribe function. */
export function onDecodedSignal<T>(
  proxy: ClientInterface,
  signal: string,
  decode: (raw: unknown) => T,
  listener: (value: T) => void,
  onInvalid: (error: Error) => void,
): () => void {
  const handler = (raw: unknown) => {
    let value: T;
    try {
      value = decode(raw);
    } catch (error) {
      onInvalid(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    listener(value);
  };
  proxy.on(signal, handler);
  return () => proxy.off(signal, handler);
}
