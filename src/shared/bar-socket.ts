import { join } from "node:path";

// Where clan-sessiond serves the bar (docs/bar.md) — bin/clan-bar-relay finds it by the same rule.

/** $CLAN_BAR_SOCKET, else $XDG_RUNTIME_DIR/clan-sessiond/bar.sock; undefined when neither is set. */
export function barSocketPath(env: NodeJS.ProcessEnv): string | undefined {
  if (env.CLAN_BAR_SOCKET) return env.CLAN_BAR_SOCKET;
  return env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, "clan-sessiond", "bar.sock") : undefined;
}
