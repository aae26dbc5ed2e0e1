import { execa } from "execa";
import { REPO } from "./daemons.js";

// Runs clanctl on a pseudo-terminal (util-linux `script`), so that it asks as it asks a person, and types each
// answer only when the next "[y/N]" question has appeared: a person cannot answer a question before it is asked.

/** An answer, or what to do (play the server, say) before giving it. */
export type TerminalAnswer = string | (() => Promise<string>);

export async function clanctlOnTerminal(args: string[], env: Record<string, string>, answers: TerminalAnswer[]) {
  const command = ["node", `${REPO}/bin/clanctl.js`, ...args].map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`).join(" ");
  const child = execa("script", ["-qec", command, "/dev/null"], { env: { ...process.env, ...env }, reject: false, stdin: "pipe" });
  let output = "";
  let asked = 0;
  let answering = Promise.resolve();
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    output += chunk;
    const questions = output.split("[y/N]").length - 1;
    while (asked < questions) {
      const answer = answers[asked] ?? "n";
      asked += 1;
      answering = answering.then(async () => {
        child.stdin?.write(`${typeof answer === "string" ? answer : await answer()}\n`);
      });
    }
  });
  const result = await child;
  await answering;
  return { exitCode: result.exitCode, output: output.replaceAll("\r", ""), questions: asked };
}
