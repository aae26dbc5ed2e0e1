import type { MessageBus } from "@jellybrick/dbus-next";

// Follows a well-known name on the bus: `appeared` when a daemon takes it (also at once if it already has it),
// `vanished` when it goes away, so clients reconnect without polling.

export async function watchName(
  bus: MessageBus,
  name: string,
  handlers: { appeared: () => void; vanished: () => void },
): Promise<void> {
  const object = await bus.getProxyObject("org.freedesktop.DBus", "/org/freedesktop/DBus");
  const daemon = object.getInterface("org.freedesktop.DBus");
  daemon.on("NameOwnerChanged", (...args: unknown[]) => {
    const [changed, , newOwner] = args;
    if (changed !== name) return;
    if (newOwner) handlers.appeared();
    else handlers.vanished();
  });
  const hasOwner = (await (daemon as unknown as { NameHasOwner(n: string): Promise<boolean> }).NameHasOwner(name)) === true;
  if (hasOwner) handlers.appeared();
}
