import { execa } from "execa";

/** Makes a unix socket file at `path` that nothing listens on, as a window manager that was killed leaves it: a
 *  process binds it and is killed before it can remove it. */
export async function makeStaleSocket(path: string): Promise<void> {
  const script = `require("net").createServer().listen(${JSON.stringify(path)}, () => console.log("ready"))`;
  const child = execa("node", ["-e", script], { reject: false });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once("data", () => resolve());
    void child.then((result) => reject(new Error(`could not bind ${path}: ${result.stderr}`)));
  });
  child.kill("SIGKILL");
  await child;
}
