import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

// A real unix-socket server in a temp directory, for testing our socket clients against the peer's side of the
// protocol. Each accepted connection is handed out in order by nextConnection().

export interface SocketPeer {
  path: string;
  nextConnection(): Promise<Socket>;
  close(): Promise<void>;
}

export async function listenOnTempSocket(): Promise<SocketPeer> {
  const dir = await mkdtemp(join(tmpdir(), "clan-socket-"));
  const path = join(dir, "peer.sock");
  const accepted: Socket[] = [];
  const waiting: ((socket: Socket) => void)[] = [];
  const server: Server = createServer((socket) => {
    const waiter = waiting.shift();
    if (waiter) waiter(socket);
    else accepted.push(socket);
  });
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => server.listen(path, resolve).once("error", reject));
  return {
    path,
    nextConnection() {
      const socket = accepted.shift();
      return socket ? Promise.resolve(socket) : new Promise((resolve) => waiting.push(resolve));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Collects the newline-terminated lines a client writes to the peer. */
export function readLines(socket: Socket): { next(): Promise<string> } {
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffer = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const waiter = waiting.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  return {
    next() {
      const line = lines.shift();
      return line !== undefined ? Promise.resolve(line) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}
