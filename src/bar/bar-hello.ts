import { z } from "zod";
import { NetworkName } from "../shared/network-name.js";
import { BAR_FORMAT_NAMES } from "./bar-format.js";

// The first line a bar's relay sends on clan-sessiond's bar socket: which format it wants, and optionally the
// one network it shows (docs/bar.md, "How the bar reaches clan-sessiond"). Everything after it is clicks.

const BarHello = z.strictObject({
  format: z.enum(BAR_FORMAT_NAMES),
  network: NetworkName.optional(),
});
type BarHello = z.infer<typeof BarHello>;

/** A hello is a short JSON object; a longer first line is refused without being parsed. */
export const MAX_HELLO_CHARS = 1024;

export type HelloLine = { ok: true; hello: BarHello } | { ok: false; reason: string };

export function parseHelloLine(line: string): HelloLine {
  if (line.length > MAX_HELLO_CHARS) return { ok: false, reason: `the hello line has ${line.length} characters, more than ${MAX_HELLO_CHARS}` };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { ok: false, reason: `the hello line is not JSON (${(error as Error).message})` };
  }
  const parsed = BarHello.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "hello"}: ${issue.message}`).join("; ");
    return { ok: false, reason: `the hello line is not {"format":"i3bar|waybar|i3blocks","network"?:NAME} (${problems})` };
  }
  return { ok: true, hello: parsed.data };
}
