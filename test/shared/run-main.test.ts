import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

// The last line of defence of both daemons, in a real Node process: once serving, an uncaught error or an
// unhandled rejection is logged and the process goes on; before that, a start that fails still exits non-zero.

const RUN_MAIN = fileURLToPath(new URL("../../src/shared/run-main.ts", import.meta.url));
const LOG = fileURLToPath(new URL("../../src/shared/log.ts", import.meta.url));

function daemon(body: string) {
  const script = `
    import { keepServingAfterUnexpectedErrors, runMain } from ${JSON.stringify(RUN_MAIN)};
    import { logger } from ${JSON.stringify(LOG)};
    runMain("fake-daemon", async () => { ${body} });
  `;
  return execa("node", ["--import", "tsx", "--input-type=module", "-e", script], { reject: false, all: true });
}

describe("keepServingAfterUnexpectedErrors", () => {
  it("logs an uncaught error and an unhandled rejection after startup and keeps serving", async () => {
    const result = await daemon(`
      keepServingAfterUnexpectedErrors(logger("fake-daemon"));
      setTimeout(() => { throw new RangeError("Maximum call stack size exceeded"); }, 10);
      setTimeout(() => void Promise.reject(new Error("guest said \\u001b]52;c;aGk=\\u0007")), 20);
      setTimeout(() => console.log("still serving"), 100);
    `);
    expect(result.exitCode).toBe(0);
    expect(result.all).toContain("fake-daemon: unexpected error, still serving: RangeError: Maximum call stack size exceeded");
    expect(result.all).toContain("fake-daemon: unexpected rejected promise, still serving: Error: guest said \\x1b]52;c;aGk=\\x07");
    expect(result.all).toContain("still serving");
    expect(result.all).not.toContain("\u001b");
  });

  it("leaves a failing start to exit with its error", async () => {
    const result = await daemon(`throw new Error("cannot connect to the session bus");`);
    expect(result.exitCode).toBe(1);
    expect(result.all).toBe("fake-daemon: cannot connect to the session bus");
  });
});
