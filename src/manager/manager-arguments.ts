import { UsageError } from "../shared/errors.js";

// clan-manager's command line: nothing (open the window), or `--join LINK` (open it on the join page with LINK in
// the entry, as the link handler's desktop file does). A second clan-manager parses its own and hands the link to
// the one already running as the GApplication action "join" (main.ts).

export interface ManagerArguments {
  /** The link to show on the join page; it is previewed there, not fetched. */
  join: string | undefined;
}

const USAGE = "usage: clan-manager [--join LINK]";

export function parseManagerArguments(argv: readonly string[]): ManagerArguments {
  if (argv.length === 0) return { join: undefined };
  const [option, link, ...extra] = argv;
  if (option !== "--join") throw new UsageError(`${USAGE} (got ${JSON.stringify(option?.slice(0, 64))})`);
  if (link === undefined) throw new UsageError(`${USAGE} (--join needs a link)`);
  if (extra.length > 0) throw new UsageError(`${USAGE} (one link only, got ${extra.length + 1})`);
  return { join: link };
}
