import { z } from "zod";
import type { MessageSpec } from "./message-spec.js";

// The payload is free text, delivered as a tick event to every subscriber of "tick" after all events the WM
// emitted before it: the client uses it as a barrier.
const SendTickReply = z.looseObject({ success: z.boolean() });
export type SendTickReply = z.infer<typeof SendTickReply>;

export const SEND_TICK = { name: "SEND_TICK", type: 10, replySchema: SendTickReply } as const satisfies MessageSpec;
