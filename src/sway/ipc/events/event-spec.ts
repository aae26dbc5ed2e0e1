import type { z } from "zod";

// One event kind: the name SUBSCRIBE takes, the number event frames carry (without the event bit), its schema.
export interface EventSpec<Name extends string = string, Schema extends z.ZodType = z.ZodType> {
  readonly name: Name;
  readonly type: number;
  readonly schema: Schema;
}
