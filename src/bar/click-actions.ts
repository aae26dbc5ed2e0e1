import type { ClickEvent } from "./click-events.js";
import { BLOCK_NAME, MANAGER_BLOCK_NAME } from "./model.js";

// What a click on a network's block asks clan-sessiond to do (docs/bar.md):
//   left → Switch(network)   middle → Rebuild(network)   right → Rollback(network, -1)
// and a left click on the trailing "☰ Manager" block opens the manager window.
// Scrolling does nothing: a wheel turns by accident while the pointer crosses the bar, and each of these
// actions starts, builds or replaces a VM.

/** Rollback's generation argument for "the generation before the current one". */
export const ROLLBACK_PREVIOUS = -1;

export type BarAction =
  | { method: "Switch"; network: string }
  | { method: "Rebuild"; network: string }
  | { method: "Rollback"; network: string; generation: number }
  | { method: "OpenManager" };

export type ClickOutcome = { action: BarAction } | { ignored: string; quiet?: boolean };

const SCROLL_BUTTONS = new Set([4, 5, 6, 7]);

export function actionForClick(click: ClickEvent): ClickOutcome {
  if (click.name === MANAGER_BLOCK_NAME) {
    return click.button === 1 ? { action: { method: "OpenManager" } } : { ignored: `button ${click.button} on the manager block does nothing`, quiet: SCROLL_BUTTONS.has(click.button) };
  }
  if (click.name !== BLOCK_NAME) return { ignored: `a click on a block that is not clan-desktop's (${JSON.stringify(click.name ?? "")})` };
  const network = click.instance;
  if (!network || network === "clan-sessiond") return { ignored: "a click on a block that stands for no single network" };
  switch (click.button) {
    case 1:
      return { action: { method: "Switch", network } };
    case 2:
      return { action: { method: "Rebuild", network } };
    case 3:
      return { action: { method: "Rollback", network, generation: ROLLBACK_PREVIOUS } };
    default:
      return SCROLL_BUTTONS.has(click.button)
        ? { ignored: "scrolling does nothing", quiet: true }
        : { ignored: `button ${click.button} does nothing` };
  }
}
