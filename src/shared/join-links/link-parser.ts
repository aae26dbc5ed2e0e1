import { isIPv6 } from "node:net";
import { ClanError } from "../errors.js";
import { hostWarnings } from "./address-warnings.js";
import { JoinLink, LINK_MAX_LENGTH, MachineName } from "./join-link.js";

// Join links, as a network advertises them (docs/links.md):
//   clan://<flake reference>[#<machine>]     git+https://…, git+file:///…, path:/…
//   nix://https-<host>/<path>[#<machine>]    the same as clan://git+https://<host>/<path>
//   nix://ipfs-<cid>                         content on IPFS (needs the ipfs command)
//   nix://ygg-<address>/<path>[#<machine>]   git over http from a Yggdrasil address
// A link is hostile input: the parser is a pure function that checks length first, then an allowlist of
// characters, then each part against its own pattern, and builds the flake reference from the checked parts only.
// Nothing here reaches a shell; git and nix later get the reference as one argument after "--" or as an installable.

const ALLOWED = /^[A-Za-z0-9\-._~:/?#=&+@]$/;
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const PATH_SEGMENT = /^[A-Za-z0-9._~+-]{1,255}$/;
const GIT_REF = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;
const GIT_REVISION = /^[0-9a-f]{40}$/;
// CIDv0 (base58btc sha2-256) or CIDv1 in base32, the two forms IPFS links use.
const IPFS_CID = /^(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{50,100})$/;

export function parseJoinLink(input: string): JoinLink {
  if (input.length > LINK_MAX_LENGTH) refuse(`it is ${input.length} characters long; a join link has at most ${LINK_MAX_LENGTH}`);
  const repairs: string[] = [];
  const warnings: string[] = [];
  let text = input.trim();
  checkCharacters(text);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]{0,15}):/.exec(text)?.[1];
  if (!scheme) refuse(`it has no scheme; join links start with clan:// or nix://`);
  if (scheme !== scheme.toLowerCase()) {
    repairs.push(`scheme ${quote(scheme)} read as ${quote(scheme.toLowerCase())}`);
    text = scheme.toLowerCase() + text.slice(scheme.length);
  }
  // Some launchers append a "/" to whatever they pass to a handler.
  if (text.endsWith("/") && text.includes("#")) {
    text = text.slice(0, -1);
    repairs.push('dropped the "/" after the machine name');
  }
  const hashes = text.split("#").length - 1;
  if (hashes > 1) refuse('it has more than one "#"; the part after "#" names one machine');
  const [body = "", fragment] = text.split("#");
  const machine = fragment === undefined ? undefined : parseMachine(fragment);
  let parsed: Omit<JoinLink, "link" | "machine" | "repairs" | "warnings">;
  switch (scheme.toLowerCase()) {
    case "clan":
      parsed = parseClanBody(expectDoubleSlash(body, "clan"), repairs, warnings);
      break;
    case "nix":
      parsed = parseNixBody(expectDoubleSlash(body, "nix"), warnings);
      break;
    default:
      refuse(`unknown scheme ${quote(`${scheme}:`)}; join links start with clan:// or nix://`);
  }
  const link = machine === undefined ? body : `${body}#${machine}`;
  return JoinLink.parse({ link: repairLink(link, repairs, parsed), ...parsed, machine, repairs, warnings });
}

/** The link shown back to the user: the repaired form, so what they confirm is what will be fetched. */
function repairLink(link: string, repairs: string[], parsed: { flake?: string | undefined }): string {
  if (repairs.length === 0 || !link.startsWith("clan://") || parsed.flake === undefined) return link;
  const machine = link.includes("#") ? link.slice(link.indexOf("#")) : "";
  return `clan://${parsed.flake}${machine}`;
}

function checkCharacters(text: string): void {
  if (text.length === 0) refuse("it is empty");
  let index = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) refuse(`it contains the control character U+${hex(code)} at position ${index + 1}`);
    if (code > 0x7f) {
      refuse(
        `it contains the non-ASCII character ${quote(char)} (U+${hex(code)}) at position ${index + 1}: letters from other scripts can ` +
          "imitate a trusted name, so join links must be ASCII; write an internationalised host name in its punycode form (xn--…)",
      );
    }
    if (!ALLOWED.test(char)) refuse(`it contains ${quote(char)} at position ${index + 1}, which has no place in a join link`);
    index += char.length;
  }
}

function expectDoubleSlash(body: string, scheme: string): string {
  if (!body.startsWith(`${scheme}://`)) refuse(`it must start with ${scheme}://`);
  return body.slice(scheme.length + 3);
}

function parseMachine(fragment: string): string {
  const parsed = MachineName.safeParse(fragment);
  if (!parsed.success) refuse(`machine ${quote(fragment)}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

type Parsed = Omit<JoinLink, "link" | "machine" | "repairs" | "warnings">;

function parseClanBody(inner: string, repairs: string[], warnings: string[]): Parsed {
  const form = /^(git\+https|git\+file|https|path)(:?)(.*)$/.exec(inner);
  if (!form) refuse(`the flake after clan:// must be git+https://…, git+file:///… or path:/…, got ${quote(inner)}`);
  const [, kind = "", colon, rest = ""] = form;
  if (colon === "" && rest.startsWith("/")) repairs.push(`added the ":" that browsers drop after ${quote(kind)}`);
  else if (colon === "") refuse(`the flake after clan:// must be git+https://…, git+file:///… or path:/…, got ${quote(inner)}`);
  switch (kind) {
    case "https":
      repairs.push('"https://" is fetched with git, as "git+https://"');
      return parseHttps(expectSlashes(rest, kind), warnings);
    case "git+https":
      return parseHttps(expectSlashes(rest, kind), warnings);
    case "git+file": {
      const path = expectSlashes(rest, kind);
      warnings.push("the source is a repository on this computer, not a network's server");
      return { transport: "git-file", flake: `git+file://${absolutePath(path)}`, needs: [] };
    }
    default:
      warnings.push("the source is a directory on this computer, not a network's server; all of it is copied into the Nix store, which every user of this computer can read");
      return { transport: "path", flake: `path:${absolutePath(rest)}`, needs: [] };
  }
}

function expectSlashes(rest: string, kind: string): string {
  if (!rest.startsWith("//")) refuse(`${kind} must be followed by "://"`);
  return rest.slice(2);
}

function parseNixBody(inner: string, warnings: string[]): Parsed {
  const dash = inner.indexOf("-");
  const kind = dash < 0 ? inner : inner.slice(0, dash);
  const rest = inner.slice(dash + 1);
  switch (kind) {
    case "https":
      return parseHttps(rest, warnings);
    case "http":
      return refuse("plain http is refused: anyone between you and the server could change what your computer runs; use https-");
    case "ipfs": {
      const cid = rest.replace(/\/$/, "");
      if (!IPFS_CID.test(cid)) refuse(`${quote(cid)} is not an IPFS content id (Qm… or b…)`);
      return { transport: "ipfs", ipfsCid: cid, needs: ["ipfs"] };
    }
    case "ygg":
      return parseYggdrasil(rest);
    default:
      return refuse(`unknown nix:// form ${quote(kind)}; expected https-<host>/…, ipfs-<cid> or ygg-<address>/…`);
  }
}

function parseHttps(rest: string, warnings: string[]): Parsed {
  const { authority, path, query } = splitRemote(rest);
  if (authority.includes("@")) refuse("it carries credentials (user@host); a join link must not");
  const [hostText = "", port, ...more] = authority.split(":");
  if (more.length > 0) refuse(`host ${quote(authority)} is not a host name with an optional port`);
  const host = hostText.toLowerCase();
  const labels = host.split(".");
  if (host.length === 0 || host.length > 253 || !labels.every((label) => HOST_LABEL.test(label))) {
    refuse(`host ${quote(hostText)} is not a host name`);
  }
  if (labels.some((label) => label.startsWith("xn--"))) {
    warnings.push(`the host ${host} is an internationalised name written in punycode: check it is the one you expect`);
  }
  warnings.push(...hostWarnings(host));
  if (port !== undefined && !(/^[0-9]{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) refuse(`port ${quote(port)} is not a port number`);
  const authorityOut = port === undefined ? host : `${host}:${Number(port)}`;
  return { transport: "https", flake: `git+https://${authorityOut}${repositoryPath(path)}${gitQuery(query)}`, host, needs: [] };
}

function parseYggdrasil(rest: string): Parsed {
  const { authority, path, query } = splitRemote(rest);
  // "-" stands for ":" (as in Windows' ipv6-literal.net names), because a ":" in a host is read as a port.
  const text = authority.replaceAll("-", ":").toLowerCase();
  if (!isIPv6(text)) refuse(`${quote(authority)} is not an IPv6 address (write its ':' as '-' or ':')`);
  const address = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const firstByte = Number.parseInt(address.split(":")[0]!.padStart(4, "0").slice(0, 2), 16);
  if (firstByte !== 0x02 && firstByte !== 0x03) refuse(`${address} is not a Yggdrasil address (those are in 200::/7)`);
  // Plain http is acceptable here only: a Yggdrasil address is derived from its node's public key, and the
  // traffic is encrypted end to end between the two nodes.
  return { transport: "yggdrasil", flake: `git+http://[${address}]${repositoryPath(path)}${gitQuery(query)}`, host: address, needs: ["yggdrasil"] };
}

function splitRemote(rest: string): { authority: string; path: string; query: string | undefined } {
  const match = /^([^/?]*)([^?]*)(?:\?(.*))?$/.exec(rest);
  if (!match) refuse("it is not a host followed by a path");
  return { authority: match[1] ?? "", path: match[2] ?? "", query: match[3] };
}

function repositoryPath(path: string): string {
  if (path === "" || path === "/") refuse("it names a host but no repository on it");
  return absolutePath(path);
}

function absolutePath(path: string): string {
  if (!path.startsWith("/")) refuse(`path ${quote(path)} must be absolute`);
  const segments = path.split("/").slice(1);
  if (segments.at(-1) === "") segments.pop();
  if (segments.length === 0 && path !== "/") refuse(`path ${quote(path)} is empty`);
  if (path.length > 1024) refuse("its path is longer than 1024 characters");
  for (const segment of segments) {
    if (segment === "." || segment === ".." || !PATH_SEGMENT.test(segment)) {
      refuse(`path part ${quote(segment)} is not allowed (letters, digits, '.', '_', '~', '+', '-'; no "." or "..")`);
    }
  }
  return `/${segments.join("/")}`;
}

function gitQuery(query: string | undefined): string {
  if (query === undefined || query === "") return "";
  const parameters = new Map<string, string>();
  for (const pair of query.split("&")) {
    const [key = "", value, extra] = pair.split("=");
    if (value === undefined || extra !== undefined) refuse(`query part ${quote(pair)} is not key=value`);
    if (parameters.has(key)) refuse(`query parameter ${quote(key)} is given twice`);
    if (key === "ref") {
      if (!GIT_REF.test(value) || value.includes("..") || value.includes("//")) refuse(`ref ${quote(value)} is not a git branch or tag name`);
    } else if (key === "rev") {
      if (!GIT_REVISION.test(value)) refuse(`rev ${quote(value)} is not a 40-digit git commit id`);
    } else {
      refuse(`query parameter ${quote(key)} is not allowed (only ref and rev)`);
    }
    parameters.set(key, value);
  }
  return `?${[...parameters].map(([key, value]) => `${key}=${value}`).join("&")}`;
}

function refuse(reason: string): never {
  throw new ClanError("InvalidArgument", `refused join link: ${reason}`);
}

/** A part of the link for a message: short, and with anything unprintable escaped. */
function quote(text: string): string {
  const short = text.length > 64 ? `${text.slice(0, 64)}…` : text;
  return JSON.stringify(short).replace(/[^\x20-\x7e]/gu, (char) => `\\u{${hex(char.codePointAt(0)!)}}`);
}

function hex(code: number): string {
  return code.toString(16).toUpperCase().padStart(4, "0");
}
