import { StringDecoder } from "node:string_decoder";
import { terminalSafe } from "../shared/untrusted-text.js";

// Splits a byte stream into newline-delimited JSON values. The peer may be a guest, so nothing it sends can
// make this throw or buffer without bound: a line over the limit is discarded as it arrives (counted, so the
// log says how many), invalid UTF-8 becomes U+FFFD, and a line that is not JSON is reported, quoted safely.

export type DecodedLine = { kind: "message"; value: unknown } | { kind: "invalid"; why: string };

export class JsonLineDecoder {
  private readonly text = new StringDecoder("utf8");
  private buffered = "";
  private bufferedBytes = 0;
  private discardingOversizedLine = false;
  /** Lines dropped for their length since the connection opened. */
  oversizedLines = 0;

  constructor(private readonly maxLineBytes: number) {}

  push(chunk: Buffer): DecodedLine[] {
    const decoded: DecodedLine[] = [];
    let rest = this.text.write(chunk);
    for (;;) {
      const newline = rest.indexOf("\n");
      if (newline < 0) break;
      const tail = rest.slice(0, newline);
      rest = rest.slice(newline + 1);
      if (this.discardingOversizedLine) {
        this.discardingOversizedLine = false;
      } else {
        const line = this.buffered + tail;
        const result = this.decodeLine(line);
        if (result) decoded.push(result);
      }
      this.buffered = "";
      this.bufferedBytes = 0;
    }
    if (this.discardingOversizedLine) return decoded;
    this.buffered += rest;
    this.bufferedBytes += Buffer.byteLength(rest);
    if (this.bufferedBytes > this.maxLineBytes) {
      decoded.push(this.oversized());
      this.buffered = "";
      this.bufferedBytes = 0;
      this.discardingOversizedLine = true;
    }
    return decoded;
  }

  private oversized(): DecodedLine {
    this.oversizedLines += 1;
    return { kind: "invalid", why: `line longer than ${this.maxLineBytes} bytes dropped (${this.oversizedLines} so far)` };
  }

  private decodeLine(rawLine: string): DecodedLine | undefined {
    // The guest agent prefixes synchronised replies with 0xFF, which arrives as U+FFFD in UTF-8 decoding.
    const line = rawLine.replace(/^[\uFFFD\xFF]+/, "").trim();
    if (line === "") return undefined;
    if (Buffer.byteLength(line) > this.maxLineBytes) return this.oversized();
    try {
      return { kind: "message", value: JSON.parse(line) };
    } catch {
      return { kind: "invalid", why: `not JSON: ${terminalSafe(line, { maxChars: 80 })}` };
    }
  }
}
