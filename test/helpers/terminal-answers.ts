import { execa } from "execa";
import { REPO } from "./daemons.js";

// Runs clanctl on a pseudo-terminal (util-linux `script`), so that it asks as it asks a person, and types each
// answer only when the next "[y/N]" question has appeared: a person cannot answer a question before it is asked.

export async function clanctlOnTerminal(args: string[], env: Record<string, string>, answers: string[]) {
  const command = ["node", `${REPO}/bin/clanctl.js`, ...args].map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`).join(" ");
  const child = execa("script", ["-qec", command, "/dev/null"], { env: { ...process.env, ...env }, reject: false, stdin: "pipe" });
  let output = "";
  let asked = 0;
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    output += chunk;
    const questions = output.split("[y/N]").length - 1;
    while (asked < questions) {
      const answer = answers[asked] ?? "n";
      asked += 1;
      child.stdin?.write(`${answer}\n`);
    }
  });
  const result = await child;
  return { exitCode: result.exitCode, output: output.replaceAll("\r", ""), questions: asked };
}
