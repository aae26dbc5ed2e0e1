import { DBusError } from "@jellybrick/dbus-next";
import { ClanError, type ErrorCode } from "./errors.js";

// ClanError codes travel as D-Bus error names, so a client can tell "unknown network" from "QEMU failed"
// without parsing messages.

const PREFIX = "org.clan.Desktop.Error.";

function toDbusError(error: unknown): DBusError {
  if (error instanceof DBusError) return error;
  if (error instanceof ClanError) return new DBusError(`${PREFIX}${error.code}`, error.message);
  return new DBusError(`${PREFIX}Internal`, error instanceof Error ? error.message : String(error));
}

export function fromDbusError(error: unknown): Error {
  if (error instanceof DBusError && error.type.startsWith(PREFIX)) {
    return new ClanError(error.type.slice(PREFIX.length) as ErrorCode, error.text);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Wraps a service method so that every failure reaches the caller as a named D-Bus error. */
export async function asDbusCall<T>(body: () => Promise<T> | T): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw toDbusError(error);
  }
}
