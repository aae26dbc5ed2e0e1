import { isIPv4, isIPv6 } from "node:net";

// A join link's host is chosen by whoever wrote the link. A host that is not a network's server on the internet —
// this computer (loopback), the local network (private and link-local ranges), or an address spelt so that it does
// not look like one (http://2130706433/ is 127.0.0.1) — points the fetch at something on the user's side of the
// firewall. Such hosts are not refused (a club may serve its flake on the LAN), but the question names them.

export function hostWarnings(host: string): string[] {
  const address = numericIPv4(host) ?? (isIPv4(host) ? host : undefined);
  if (address !== undefined && address !== host) {
    return [`the host ${host} is the IPv4 address ${address} written as a number${describeIPv4(address).map((kind) => `, ${kind}`).join("")}`];
  }
  if (address !== undefined) return describeIPv4(address).map((kind) => `the host ${host} is ${kind}`);
  if (isIPv6(host)) return describeIPv6(host).map((kind) => `the host ${host} is ${kind}`);
  if (host === "localhost" || host.endsWith(".localhost")) return [`the host ${host} is this computer (loopback)`];
  if (!host.includes(".")) return [`the host ${host} has no domain: it is a name on the local network, not a network's server`];
  if (host.endsWith(".local") || host.endsWith(".internal") || host.endsWith(".lan") || host.endsWith(".home.arpa")) {
    return [`the host ${host} is a name on the local network, not a network's server`];
  }
  return [];
}

/** How the address classifies: loopback, unspecified, private, link-local, shared (CGNAT); empty for public. */
function describeIPv4(address: string): string[] {
  const [a = 0, b = 0] = address.split(".").map(Number);
  if (a === 127) return ["this computer (loopback)"];
  if (a === 0) return ["an unspecified address (0.0.0.0/8), which reaches this computer"];
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return ["a private address on the local network"];
  if (a === 169 && b === 254) return ["a link-local address on the local network"];
  if (a === 100 && b >= 64 && b <= 127) return ["a shared address of the provider's network (100.64.0.0/10)"];
  if (a >= 224) return ["a multicast or reserved address"];
  return [];
}

function describeIPv6(host: string): string[] {
  const canonical = new URL(`http://[${host}]/`).hostname.slice(1, -1);
  if (canonical === "::1") return ["this computer (loopback)"];
  if (canonical === "::") return ["the unspecified address, which reaches this computer"];
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const [high, low] = [Number.parseInt(mapped[1]!, 16), Number.parseInt(mapped[2]!, 16)];
    return describeIPv4(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`);
  }
  const first = Number.parseInt(canonical.split(":")[0] || "0", 16);
  if ((first & 0xffc0) === 0xfe80) return ["a link-local address on the local network"];
  if ((first & 0xfe00) === 0xfc00) return ["a private (unique local) address"];
  if ((first & 0xffc0) === 0xfec0) return ["a site-local address on the local network"];
  return [];
}

/**
 * The dotted form of an IPv4 address written the ways resolvers accept besides a.b.c.d: one number (2130706433),
 * hexadecimal (0x7f000001), octal (017700000001), or fewer or mixed-base parts (127.1, 0x7f.0.0.1).
 */
function numericIPv4(host: string): string | undefined {
  const parts = host.split(".");
  if (parts.length > 4 || !parts.every((part) => /^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/.test(part))) return undefined;
  const values = parts.map((part) => (part.startsWith("0x") ? Number.parseInt(part.slice(2), 16) : part.length > 1 && part.startsWith("0") ? Number.parseInt(part.slice(1), 8) : Number(part)));
  const last = values.pop()!;
  if (values.some((value) => value > 255) || last >= 256 ** (4 - values.length)) return undefined;
  const number = values.reduce((sum, value, index) => sum + value * 256 ** (3 - index), 0) + last;
  return [24, 16, 8, 0].map((shift) => Math.floor(number / 2 ** shift) % 256).join(".");
}
