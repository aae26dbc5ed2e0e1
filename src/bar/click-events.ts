import { z } from "zod";

// Click events as bars write them to a status module's stdin. i3bar and swaybar send an endless JSON array, one
// event per line: "[" first, then each event, every one after the first preceded by a comma
// ({"name":…,"instance":…,"button":1,"x":…,…}). i3blocks ≥ 1.5 sends one object per line to a persistent block
// (with format=json). Whatever the bar, input that is not such an event is reported and skipped: a bar (or
// anyone who can write to the pipe) cannot make the module do more than a click could.

export const ClickEvent = z.looseObject({
  name: z.string().max(256).optional(),
  instance: z.string().max(256).optional(),
  /** 1 left, 2 middle, 3 right, 4/5 scroll up/down, 6/7 scroll left/right, more for extra buttons. */
  button: z.number().int().min(1).max(255),
});
export type ClickEvent = z.infer<typeof ClickEvent>;

export type ClickLine = { kind: "click"; click: ClickEvent } | { kind: "blank" } | { kind: "invalid"; reason: string };

/** One line of a click stream: an event, nothing (the opening "[", an empty line), or something invalid. */
export function parseClickLine(line: string): ClickLine {
  let text = line.trim();
  if (text.startsWith("[")) text = text.slice(1).trimStart();
  if (text.startsWith(",")) text = text.slice(1).trimStart();
  if (text === "" || text === "]") return { kind: "blank" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: "invalid", reason: `not JSON (${(error as Error).message}): ${preview(text)}` };
  }
  const parsed = ClickEvent.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "event"}: ${issue.message}`).join("; ");
    return { kind: "invalid", reason: `not a click event (${problems}): ${preview(text)}` };
  }
  return { kind: "click", click: parsed.data };
}

function preview(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

/** A line longer than this is not a click event; it is reported and skipped rather than buffered. */
export const MAX_CLICK_LINE_CHARS = 64 * 1024;

/** Splits a byte stream into lines, dropping (and reporting) lines longer than MAX_CLICK_LINE_CHARS. */
export class ClickLineSplitter {
  private pending = "";
  private skipping = false;

  constructor(private readonly onLine: (line: string) => void, private readonly onOverlong: (length: number) => void) {}

  push(chunk: string): void {
    let rest = chunk;
    for (let newline = rest.indexOf("\n"); newline !== -1; newline = rest.indexOf("\n")) {
      const piece = rest.slice(0, newline);
      rest = rest.slice(newline + 1);
      if (this.skipping) this.skipping = false;
      else this.deliver(this.pending + piece);
      this.pending = "";
    }
    if (this.skipping) return;
    this.pending += rest;
    if (this.pending.length > MAX_CLICK_LINE_CHARS) {
      this.onOverlong(this.pending.length);
      this.pending = "";
      this.skipping = true;
    }
  }

  private deliver(line: string): void {
    if (line.length > MAX_CLICK_LINE_CHARS) this.onOverlong(line.length);
    else this.onLine(line);
  }
}
