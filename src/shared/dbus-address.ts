// A unix socket's D-Bus address, escaped as the address syntax wants: every byte outside [-0-9A-Za-z_/.*] as %xx,
// so that no path can add a key or a second address to it.
export function busAddress(socket: string): string {
  return `unix:path=${socket.replace(/[^-0-9A-Za-z_/.*]/g, (c) => [...Buffer.from(c)].map((b) => `%${b.toString(16).padStart(2, "0")}`).join(""))}`;
}
