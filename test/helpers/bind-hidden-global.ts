import { join } from "node:path";
import { encodeMessage, readDisplayError, readGlobal, WireConnection } from "./wayland-wire.js";

// A hostile Wayland client, run by the e2e test as a guest app (under `waypipe server`): it lists the globals it is
// shown, then binds the global NAME as INTERFACE whether or not it was shown, as an app that guessed the
// compositor's numbering would. Prints one JSON line: what it saw and how the connection ended.
//
//   node --import tsx test/helpers/bind-hidden-global.ts NAME INTERFACE

const [nameArgument, iface] = process.argv.slice(2);
const display = process.env["WAYLAND_DISPLAY"] ?? "wayland-0";
const path = display.startsWith("/") ? display : join(process.env["XDG_RUNTIME_DIR"] ?? "", display);
const connection = await WireConnection.connect(path);
connection.send(Buffer.concat([encodeMessage(1, 1, [{ uint: 2 }]), encodeMessage(1, 0, [{ uint: 3 }])]));
await until(() => connection.received.some((m) => m.object === 3) || connection.closed);
const globals = connection.received.filter((m) => m.object === 2 && m.opcode === 0).map((m) => readGlobal(m.body).interface);
connection.send(Buffer.concat([encodeMessage(2, 0, [{ uint: Number(nameArgument) }, { string: iface ?? "" }, { uint: 1 }, { uint: 10 }]), encodeMessage(1, 0, [{ uint: 11 }])]));
// A sync after the bind: its done means the bind was accepted; an error or the end of the connection, refused.
await until(() => connection.closed || connection.received.some((m) => m.object === 11 || (m.object === 1 && m.opcode === 0)));
const error = connection.received.find((m) => m.object === 1 && m.opcode === 0);
const accepted = connection.received.some((m) => m.object === 11);
process.stdout.write(`${JSON.stringify({ globals, accepted, error: error ? readDisplayError(error.body) : null })}\n`);
connection.close();

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 20));
}
