import { sessionBus, type MessageBus, RequestNameReply, NameFlag } from "@jellybrick/dbus-next";
import { ClanError } from "./errors.js";

// Connecting to the session bus, with an error that names the problem when there is none.
export function connectSessionBus(): MessageBus {
  if (!process.env.DBUS_SESSION_BUS_ADDRESS) {
    throw new ClanError("Disconnected", "DBUS_SESSION_BUS_ADDRESS is not set: there is no session bus to talk on");
  }
  return sessionBus();
}

export async function claimName(bus: MessageBus, name: string): Promise<void> {
  const reply = await bus.requestName(name, NameFlag.DO_NOT_QUEUE);
  if (reply !== RequestNameReply.PRIMARY_OWNER && reply !== RequestNameReply.ALREADY_OWNER) {
    throw new ClanError("Busy", `${name} is already owned on this session bus: is another instance running?`);
  }
}

/** The bus emits "error" when its connection breaks, although its type declarations omit the event. */
export function onBusError(bus: MessageBus, handler: (error: Error) => void): void {
  (bus as unknown as NodeJS.EventEmitter).on("error", handler);
}
