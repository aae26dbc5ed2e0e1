import { IpcUnexpectedFrameError } from "../errors.js";
import type { IpcFrame } from "../framing.js";
import { parsePayload } from "../payload.js";
import { SHUTDOWN_EVENT, type ShutdownEvent } from "./shutdown.js";
import { TICK_EVENT, type TickEvent } from "./tick.js";
import { WINDOW_EVENT, type WindowEvent } from "./window.js";
import { WORKSPACE_EVENT, type WorkspaceEvent } from "./workspace.js";

// The events the client can subscribe to, and the typed union it hands out.

const EVENT_SPECS = {
  workspace: WORKSPACE_EVENT,
  window: WINDOW_EVENT,
  shutdown: SHUTDOWN_EVENT,
  tick: TICK_EVENT,
} as const;

export type EventName = keyof typeof EVENT_SPECS;

export type WmEvent =
  | { readonly kind: "workspace"; readonly event: WorkspaceEvent }
  | { readonly kind: "window"; readonly event: WindowEvent }
  | { readonly kind: "shutdown"; readonly event: ShutdownEvent }
  | { readonly kind: "tick"; readonly event: TickEvent };

const SPEC_BY_TYPE: ReadonlyMap<number, (typeof EVENT_SPECS)[EventName]> = new Map(Object.values(EVENT_SPECS).map((spec) => [spec.type, spec]));

/** Decodes and validates an event frame; throws a typed error for unknown event types and invalid payloads. */
export function parseEventFrame(frame: IpcFrame): WmEvent {
  const spec = SPEC_BY_TYPE.get(frame.type);
  if (!frame.isEvent || spec === undefined) {
    throw new IpcUnexpectedFrameError(`unexpected ${frame.isEvent ? "event" : "reply"} of type ${frame.type} on an event connection`);
  }
  const event: unknown = parsePayload(frame.payload, spec.schema, `${spec.name} event`);
  // The map lookup loses the pairing of name and schema that EVENT_SPECS has; rebuild it by name.
  return { kind: spec.name, event } as WmEvent;
}
