import type { MessageBus } from "@jellybrick/dbus-next";
import { ClanError } from "../shared/errors.js";

// Who called: dbus-next hands a method its arguments but not the message's sender. A bus method handler runs
// for every incoming call just before dbus-next dispatches it to the exported interface, in the same
// synchronous turn, and the contract's handler reads its arguments synchronously too (service.ts), so the sender
// recorded here is the caller of the method that runs. And who left: NameOwnerChanged for a unique name that
// lost its owner.

export interface BusCallers {
  /** The unique bus name of the caller of the method being handled; call it before the handler's first await. */
  current(): string;
  /** Calls `listener` with each unique name that leaves the bus. */
  onGone(listener: (name: string) => void): void;
}

export async function followBusCallers(bus: MessageBus, interfaceName: string): Promise<BusCallers> {
  let sender: string | undefined;
  bus.addMethodHandler((message) => {
    if (message.interface === interfaceName) sender = message.sender;
    return false;
  });
  const daemon = (await bus.getProxyObject("org.freedesktop.DBus", "/org/freedesktop/DBus")).getInterface("org.freedesktop.DBus");
  const listeners: ((name: string) => void)[] = [];
  daemon.on("NameOwnerChanged", (...args: unknown[]) => {
    const [name, , newOwner] = args;
    if (typeof name === "string" && name.startsWith(":") && newOwner === "") for (const listener of listeners) listener(name);
  });
  return {
    current: () => {
      if (!sender) throw new ClanError("InvalidState", "the bus did not say who called");
      return sender;
    },
    onGone: (listener) => listeners.push(listener),
  };
}
