import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { ClanError } from "../errors.js";
import type { JoinLink } from "./join-link.js";

// The refusals a parsed link meets before anything is fetched, shared by `clanctl join` and the manager's join page:
// a link that came from outside the terminal (clicked, pasted into the window) may not name this computer's files,
// and a link needs a transport this machine can fetch.

/** Refuses a link that came from a web page or a chat (clicked, or pasted into the manager) naming local files. */
export function refuseLocalSourceFromOutside(link: JoinLink): void {
  if (link.transport === "path" || link.transport === "git-file") {
    throw new ClanError(
      "InvalidArgument",
      "refused join link: a clicked link may not name a directory or repository on this computer (a web page could copy your files into the Nix store); " +
        "to join a local network, run clanctl join on a terminal",
    );
  }
}

/** The flake reference to fetch, or a clear refusal for links whose transport this machine lacks. */
export function requireFetchable(link: JoinLink): string {
  for (const tool of link.needs) {
    if (!hasBinary(tool)) throw new ClanError("InvalidState", `this link needs ${tool}, which is not installed on this machine; nothing was fetched`);
  }
  if (link.flake === undefined) {
    throw new ClanError("InvalidState", "clan-desktop cannot fetch a network from IPFS yet; ask the network for a clan:// or nix://https- link. Nothing was fetched");
  }
  return link.flake;
}

function hasBinary(name: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // Not in this directory of PATH; the next one may have it.
      return false;
    }
  });
}
