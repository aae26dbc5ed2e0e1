import { z } from "zod";

// What a join link means once parsed: where the network's flake comes from, as a flake reference that
// config.json accepts, and which of its machines to run. Links arrive from web pages and chat messages, so the
// parser (link-parser.ts) treats them as hostile; this schema is what the rest of clan-desktop may rely on.

export const LINK_MAX_LENGTH = 2048;

const LinkTransport = z.enum(["https", "git-file", "path", "ipfs", "yggdrasil"]);
export type LinkTransport = z.infer<typeof LinkTransport>;

/** Machine names are flake attribute names; they become `packages.<system>.<machine>`. */
export const MachineName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/, "a machine name is 1–64 letters, digits, '_' or '-', starting with a letter or '_'");

export const JoinLink = z
  .object({
    /** The link as understood, after the repairs below: what the user is shown. */
    link: z.string().max(LINK_MAX_LENGTH),
    transport: LinkTransport,
    /** The flake reference config.json will hold; absent when the transport cannot be fetched here (ipfs). */
    flake: z.string().max(LINK_MAX_LENGTH).optional(),
    /** The host the flake is fetched from, in ASCII (punycode for internationalised names); absent for local sources. */
    host: z.string().optional(),
    /** The IPFS content id, for ipfs links. */
    ipfsCid: z.string().optional(),
    machine: MachineName.optional(),
    /** Programs this link needs on this machine beyond git and nix. */
    needs: z.array(z.enum(["ipfs", "yggdrasil"])),
    /** What was changed to read the link, e.g. the ':' that browsers drop from "git+https//". */
    repairs: z.array(z.string()),
    /** Things the user should look at before confirming (punycode hosts, hosts on the local network, local sources). */
    warnings: z.array(z.string()),
  })
  .strict();
export type JoinLink = z.infer<typeof JoinLink>;
