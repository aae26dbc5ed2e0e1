import { createServer as createHttpsServer } from "node:https";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { execa } from "execa";

// Servers a join test plays the network (or the attacker) with, on 127.0.0.1 only: an https server that serves
// bare git repositories over git's "dumb" protocol (static files), with a self-signed certificate that the
// test's git trusts through GIT_SSL_CAINFO; and a plain http server that only records what it is asked for,
// to catch a flake that sends data out during evaluation. Both record every request path.

export interface RecordingServer {
  port: number;
  requests: string[];
  stop(): Promise<void>;
}

export interface GitHttpsServer extends RecordingServer {
  /** The certificate to trust: pass as GIT_SSL_CAINFO to whatever runs git. */
  caFile: string;
  /** Serves `repository`'s committed state as https://127.0.0.1:<port>/<name>.git and returns that URL. */
  publish(repository: string, name: string): Promise<string>;
}

export async function startGitHttpsServer(): Promise<GitHttpsServer> {
  const dir = await mkdtemp(join(tmpdir(), "clan-join-https-"));
  const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
  await execa("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]);
  const root = join(dir, "repos");
  const requests: string[] = [];
  const server = createHttpsServer({ key: await readFile(key), cert: await readFile(cert) }, (request, response) => {
    requests.push(request.url ?? "");
    void serveFile(root, request, response);
  });
  const port = await listen(server);
  return {
    port,
    requests,
    caFile: cert,
    async publish(repository, name) {
      const bare = join(root, `${name}.git`);
      await rm(bare, { recursive: true, force: true });
      await execa("git", ["clone", "-q", "--bare", repository, bare]);
      await execa("git", ["-C", bare, "update-server-info"]);
      return `https://127.0.0.1:${port}/${name}.git`;
    },
    async stop() {
      await close(server);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An http server on 127.0.0.1 that answers 404 to everything and records what it was asked. */
export async function startRecordingServer(): Promise<RecordingServer> {
  const requests: string[] = [];
  const server = createHttpServer((request, response) => {
    requests.push(request.url ?? "");
    response.writeHead(404).end();
  });
  const port = await listen(server);
  return { port, requests, stop: () => close(server) };
}

async function serveFile(root: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = normalize(join(root, decodeURIComponent(new URL(request.url ?? "/", "https://x").pathname)));
  try {
    if (!path.startsWith(`${root}/`) || !(await stat(path)).isFile()) throw new Error("not a file");
    response.writeHead(200).end(await readFile(path));
  } catch {
    response.writeHead(404).end();
  }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    });
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
