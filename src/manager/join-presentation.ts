import { errorMessage } from "../shared/errors.js";
import { terminalSafe } from "../shared/untrusted-text.js";
import { refuseLocalSourceFromOutside, requireFetchable } from "../shared/join-links/link-checks.js";
import { linkFacts } from "../shared/join-links/link-facts.js";
import { LINK_MAX_LENGTH } from "../shared/join-links/join-link.js";
import { parseJoinLink } from "../shared/join-links/link-parser.js";

// What the join page says about a pasted link before anything is fetched: the analysis `clanctl join` shows at its
// first question (the link parser, the refusals of a link from outside the terminal, linkFacts), as plain data.
// A link comes from a web page or a chat, so every string shown is made safe and bounded.

const MAX_TEXT = 300;

export interface LinkFactRow {
  title: string;
  text: string;
}

export type JoinPreview =
  | { kind: "empty" }
  | { kind: "refused"; reason: string }
  | { kind: "ready"; link: string; facts: LinkFactRow[]; warnings: string[] };

export function previewJoinLink(text: string): JoinPreview {
  if (text.trim() === "") return { kind: "empty" };
  try {
    const link = parseJoinLink(text);
    refuseLocalSourceFromOutside(link);
    const facts = linkFacts(link, requireFetchable(link));
    return {
      kind: "ready",
      link: text.trim(),
      facts: [
        { title: "From", text: safe(facts.from) },
        { title: "Source", text: safe(facts.source) },
        { title: "Revision", text: safe(facts.revision) },
        { title: "Machine", text: safe(facts.machine) },
        ...facts.repairs.map((repair) => ({ title: "Repaired", text: safe(repair) })),
      ],
      warnings: facts.warnings.map(safe),
    };
  } catch (error) {
    return { kind: "refused", reason: safe(errorMessage(error)) };
  }
}

/**
 * Why a link handed to the window (the `join` action: any program of the session may send one) is refused by its
 * size alone, or undefined when it is small enough to be read and previewed. A join link is ASCII, so a text of more
 * bytes than a link has characters is none.
 */
export function refusedByLinkSize(bytes: number): string | undefined {
  if (bytes <= LINK_MAX_LENGTH) return undefined;
  return `refused join link: it is ${bytes} bytes long; a join link has at most ${LINK_MAX_LENGTH} characters, all ASCII`;
}

function safe(text: string): string {
  return terminalSafe(text, { maxChars: MAX_TEXT });
}
