import { z } from "zod";
import type { MessageSpec } from "./message-spec.js";

// The payload is a JSON array of event names. Sent only on a connection of its own: once subscribed, the WM
// interleaves events with replies, which is why the client never subscribes its command connection.
export const SubscribeReply = z.looseObject({ success: z.boolean() });
export type SubscribeReply = z.infer<typeof SubscribeReply>;

export const SUBSCRIBE = { name: "SUBSCRIBE", type: 2, replySchema: SubscribeReply } as const satisfies MessageSpec;
