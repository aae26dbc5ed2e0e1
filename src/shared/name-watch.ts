import type { MessageBus } from "@jellybrick/dbus-next";

// Follows a well-known name on the bus: `appeared` when a daemon takes it (also at once if it already has it,
// and then awaited, so a caller starts with the peer's state), `vanished` when it goes away, so clients
// reconnect without polling.

export async function watchName(
  bus: MessageBus,
  name: string,
  handlers: { appeared: () => Promise<void> | void; vanished: () => void },
): Promise<void> {
  const object = await bus.getProxyObject("org.freedesktop.DBus", "/org/freedesktop/DBus");
  const daemon = object.getInterface("org.freedesktop.DBus");
  daemon.on("NameOwnerChanged", (...args: unknown[]) => {
    const [changed, , newOwner] = args;
    if (changed !== name) return;
    if (newOwner) void handlers.appeared();
    else handlers.vanished();
  });
  const hasOwner = (await (daemon as unknown as { NameHasOwner(n: string): Promise<boolean> }).NameHasOwner(name)) === true;
  if (hasOwner) await handlers.appeared();
}
