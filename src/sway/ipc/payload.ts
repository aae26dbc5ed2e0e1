import type { z } from "zod";
import { IpcInvalidReplyError } from "./errors.js";

/** Parses a frame's JSON payload against its schema; `what` names the reply or event in the error. */
export function parsePayload<Schema extends z.ZodType>(payload: Buffer, schema: Schema, what: string): z.infer<Schema> {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString("utf8"));
  } catch (error) {
    throw new IpcInvalidReplyError(what, "payload is not JSON", { cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new IpcInvalidReplyError(what, parsed.error.message, { cause: parsed.error });
  return parsed.data;
}
