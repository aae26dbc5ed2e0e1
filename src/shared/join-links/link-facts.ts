import type { JoinLink } from "./join-link.js";

// What a parsed join link alone says, before anything is fetched: the rows of `clanctl join`'s first question and
// of the manager's join page, computed once for both.

/** What the link alone says, before anything is fetched: the rows `clanctl join` and the manager's join page show. */
export interface LinkFacts {
  from: string;
  source: string;
  revision: string;
  machine: string;
  repairs: string[];
  warnings: string[];
}

export function linkFacts(link: JoinLink, flake: string): LinkFacts {
  const query = new URLSearchParams(/\?(.*)$/.exec(flake)?.[1] ?? "");
  const revision = query.get("rev") ?? (query.get("ref") ? `the newest commit of ${query.get("ref")}` : "the newest commit of the default branch");
  return {
    from: link.host ?? "this computer",
    source: flake.replace(/\?.*$/, ""),
    revision: flake.startsWith("path:") ? "the directory as it is now" : revision,
    machine: link.machine ?? "not named by the link: the one the network describes, if it describes one",
    repairs: link.repairs,
    warnings: link.warnings,
  };
}
