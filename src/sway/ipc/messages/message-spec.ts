import type { z } from "zod";

// One IPC request kind: its number on the wire and the schema its reply must match, go-i3 style (one file each).
export interface MessageSpec<ReplySchema extends z.ZodType = z.ZodType> {
  /** The protocol's name, used in errors and logs. */
  readonly name: string;
  readonly type: number;
  readonly replySchema: ReplySchema;
}

export type ReplyOf<Spec extends MessageSpec> = z.infer<Spec["replySchema"]>;
