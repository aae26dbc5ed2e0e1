import { z } from "zod";
import type { EventSpec } from "./event-spec.js";

// `first` is true for the tick every new "tick" subscriber receives at once (with an empty payload); later ticks
// carry the payload of a SEND_TICK.
export const TickEvent = z.looseObject({ first: z.boolean(), payload: z.string() });
export type TickEvent = z.infer<typeof TickEvent>;

export const TICK_EVENT = { name: "tick", type: 7, schema: TickEvent } as const satisfies EventSpec;
