import { describe, expect, it } from "vitest";
import { ConfigSchema } from "../../../src/session/config/schema.js";
import { hostWarnings } from "../../../src/shared/join-links/address-warnings.js";
import { parseJoinLink } from "../../../src/shared/join-links/link-parser.js";

// Join links come from web pages and chat messages: every form the seeds name, the repairs browsers force, and
// hostile input, which must be refused with a message that says why — and never echo 100 KB back.

/** The flake reference must be one that config.json accepts, or joining would write an invalid config. */
function acceptedByConfig(flake: string): boolean {
  const config = { networks: { net: { workspaces: ["1:net"], colour: "#123456", source: { flake } } } };
  return ConfigSchema.safeParse(config).success;
}

describe("join links: the forms networks advertise", () => {
  it("clan://git+https://…#machine", () => {
    const link = parseJoinLink("clan://git+https://git.example.org/chess-club/infra#alice");
    expect(link).toEqual({
      link: "clan://git+https://git.example.org/chess-club/infra#alice",
      transport: "https",
      flake: "git+https://git.example.org/chess-club/infra",
      host: "git.example.org",
      machine: "alice",
      needs: [],
      repairs: [],
      warnings: [],
    });
    expect(acceptedByConfig(link.flake!)).toBe(true);
  });

  it("keeps ref and rev, a port, and no machine", () => {
    const rev = "0123456789abcdef0123456789abcdef01234567";
    const link = parseJoinLink(`clan://git+https://Git.Example.org:8443/a/b.git?ref=release/v1&rev=${rev}`);
    expect(link.flake).toBe(`git+https://git.example.org:8443/a/b.git?ref=release/v1&rev=${rev}`);
    expect(link.machine).toBeUndefined();
    expect(acceptedByConfig(link.flake!)).toBe(true);
  });

  it("nix://https-github.com/org/repo is git over https", () => {
    const link = parseJoinLink("nix://https-github.com/org/repo#laptop");
    expect(link).toMatchObject({ transport: "https", flake: "git+https://github.com/org/repo", host: "github.com", machine: "laptop" });
  });

  it("local sources work and are flagged as local", () => {
    const file = parseJoinLink("clan://git+file:///tmp/clan-flake-x#default");
    expect(file).toMatchObject({ transport: "git-file", flake: "git+file:///tmp/clan-flake-x", machine: "default" });
    expect(file.warnings.join()).toContain("on this computer");
    expect(acceptedByConfig(file.flake!)).toBe(true);
    const path = parseJoinLink("clan://path:/srv/networks/family");
    expect(path).toMatchObject({ transport: "path", flake: "path:/srv/networks/family" });
    expect(acceptedByConfig(path.flake!)).toBe(true);
  });

  it("nix://ipfs-<cid> parses but says it needs ipfs, and has no flake to fetch", () => {
    const cid = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG";
    const link = parseJoinLink(`nix://ipfs-${cid}`);
    expect(link).toMatchObject({ transport: "ipfs", ipfsCid: cid, needs: ["ipfs"] });
    expect(link.flake).toBeUndefined();
    expect(parseJoinLink("nix://ipfs-bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi").ipfsCid).toMatch(/^bafy/);
  });

  it("nix://ygg-<address> accepts '-' or ':' and gives git over http to the canonical address", () => {
    const dashed = parseJoinLink("nix://ygg-200-1234--abcd/net.git#m");
    expect(dashed).toMatchObject({ transport: "yggdrasil", flake: "git+http://[200:1234::abcd]/net.git", host: "200:1234::abcd", needs: ["yggdrasil"] });
    expect(acceptedByConfig(dashed.flake!)).toBe(true);
    expect(parseJoinLink("nix://ygg-0300:0:0:0:0:0:0:1/n").flake).toBe("git+http://[300::1]/n");
  });
});

describe("join links: repairs that browsers and launchers force", () => {
  it("the ':' dropped in git+https//", () => {
    const link = parseJoinLink("clan://git+https//git.example.org/club#bob");
    expect(link.flake).toBe("git+https://git.example.org/club");
    expect(link.link).toBe("clan://git+https://git.example.org/club#bob");
    expect(link.repairs).toEqual(['added the ":" that browsers drop after "git+https"']);
  });

  it("an upper-case scheme, a trailing '/' after the machine, https:// without git+", () => {
    const link = parseJoinLink("CLAN://https://git.example.org/club#bob/");
    expect(link).toMatchObject({ flake: "git+https://git.example.org/club", machine: "bob", link: "clan://git+https://git.example.org/club#bob" });
    expect(link.repairs).toHaveLength(3);
  });

  it("surrounding whitespace (a pasted link) is trimmed", () => {
    expect(parseJoinLink("  nix://https-github.com/org/repo\n").flake).toBe("git+https://github.com/org/repo");
  });
});

describe("join links: hostile input is refused with a reason", () => {
  const refused = (link: string) => {
    try {
      parseJoinLink(link);
    } catch (error) {
      expect((error as Error).name).toBe("ClanError(InvalidArgument)");
      return (error as Error).message;
    }
    throw new Error(`accepted ${JSON.stringify(link.slice(0, 80))}`);
  };

  it.each([
    ["clan://git+https://example.org/x;rm -rf ~", "contains \";\""],
    ["clan://git+https://example.org/$(touch /tmp/p)", 'contains "$"'],
    ["clan://git+https://example.org/`id`", 'contains "`"'],
    ["clan://git+https://example.org/x|sh", 'contains "|"'],
    ["clan://git+https://example.org/x'y", "contains \"'\""],
    ["clan://git+https://example.org/x%00", 'contains "%"'],
    ["clan://git+https://example.org/a\\b", 'contains "\\\\"'],
    ["nix://https-example.org/x>out", 'contains ">"'],
  ])("shell metacharacters: %s", (link, expected) => {
    expect(refused(link)).toContain(expected);
  });

  it("100 KB is refused by its length, without echoing it", () => {
    const message = refused(`clan://git+https://example.org/${"a".repeat(100 * 1024)}`);
    expect(message).toBe("refused join link: it is 102431 characters long; a join link has at most 2048");
  });

  it("NUL and other control characters", () => {
    expect(refused("clan://git+https://example.org/x\0y")).toContain("control character U+0000 at position 33");
    expect(refused("clan://git+https://exa\u001bmple.org/x")).toContain("U+001B");
    expect(refused("clan://git+https://example.org/x\u0085")).toContain("U+0085");
  });

  it("unicode look-alike hosts: Cyrillic 'а', fullwidth ':', a right-to-left override", () => {
    const cyrillic = refused("clan://git+https://exаmple.org/club");
    expect(cyrillic).toContain("U+0430");
    expect(cyrillic).toContain("punycode");
    expect(refused("clan：//git+https://example.org/x")).toContain("U+FF1A");
    expect(refused("nix://https-example.org/\u202Egpj.exe")).toContain("U+202E");
  });

  it("punycode hosts are accepted but flagged", () => {
    const link = parseJoinLink("nix://https-xn--exmple-cua.org/club");
    expect(link.host).toBe("xn--exmple-cua.org");
    expect(link.warnings.join()).toContain("punycode");
  });

  it.each([
    ["https://example.org/x", 'unknown scheme "https:"'],
    ["file:///etc/passwd", 'unknown scheme "file:"'],
    ["javascript:alert(1)", 'contains "("'],
    ["example.org/x", "no scheme"],
    ["", "it is empty"],
    ["clan:git+https://example.org/x", "must start with clan://"],
    ["clan://git+ssh://example.org/x", "must be git+https://"],
    ["clan://github:org/repo", "must be git+https://"],
    ["nix://http-example.org/x", "plain http is refused"],
    ["nix://ftp-example.org/x", 'unknown nix:// form "ftp"'],
  ])("unknown or unsafe forms: %s", (link, expected) => {
    expect(refused(link)).toContain(expected);
  });

  it.each([
    ["clan://git+https://user:pw@example.org/x", "credentials"],
    ["clan://git+https://example.org", "no repository"],
    ["clan://git+https://example.org/../../etc", 'path part ".."'],
    ["clan://git+https://-bad-.org/x", "not a host name"],
    ["clan://git+https://example.org:99999/x", "not a port number"],
    ["clan://git+https://example.org/x?ref=--upload-pack", "not a git branch or tag name"],
    ["clan://git+https://example.org/x?rev=HEAD", "not a 40-digit git commit id"],
    ["clan://git+https://example.org/x?submodules=1", '"submodules" is not allowed'],
    ["clan://git+https://example.org/x?ref=a&ref=b", "given twice"],
    ["clan://git+https://example.org/x#a#b", 'more than one "#"'],
    ["clan://git+https://example.org/x#-rf", 'machine "-rf"'],
    ["clan://git+file://relative/x", "must be absolute"],
    ["nix://ygg-10-0-0-1/x", "not an IPv6 address"],
    ["nix://ygg-2001-db8--1/x", "not a Yggdrasil address"],
    ["nix://ygg-200--1", "no repository"],
    ["nix://ipfs-notacid", "not an IPFS content id"],
  ])("malformed parts: %s", (link, expected) => {
    expect(refused(link)).toContain(expected);
  });
});

describe("join links: hosts on the user's side of the firewall are named in a warning", () => {
  it.each([
    ["127.0.0.1", "this computer (loopback)"],
    ["127.8.9.10", "this computer (loopback)"],
    ["2130706433", "the IPv4 address 127.0.0.1 written as a number, this computer (loopback)"],
    ["0x7f000001", "the IPv4 address 127.0.0.1 written as a number, this computer (loopback)"],
    ["017700000001", "the IPv4 address 127.0.0.1 written as a number, this computer (loopback)"],
    ["127.1", "the IPv4 address 127.0.0.1 written as a number"],
    ["0.0.0.0", "unspecified address"],
    ["10.1.2.3", "a private address on the local network"],
    ["172.20.0.1", "a private address on the local network"],
    ["192.168.1.1", "a private address on the local network"],
    ["169.254.169.254", "a link-local address"],
    ["167772161", "the IPv4 address 10.0.0.1 written as a number, a private address"],
    ["localhost", "this computer (loopback)"],
    ["nas", "has no domain"],
    ["printer.local", "a name on the local network"],
  ])("%s", (host, expected) => {
    const link = parseJoinLink(`clan://git+https://${host}/club/infra`);
    expect(link.warnings).toEqual([expect.stringContaining(`the host ${host} `)]);
    expect(link.warnings[0]).toContain(expected);
  });

  it("a public name or address gets no warning", () => {
    expect(parseJoinLink("clan://git+https://git.example.org/club/infra").warnings).toEqual([]);
    expect(parseJoinLink("clan://git+https://93.184.216.34/club/infra").warnings).toEqual([]);
  });

  it("IPv6 hosts cannot be written in a link's https form; the classifier still knows them", () => {
    expect(() => parseJoinLink("clan://git+https://[fe80::1]/x")).toThrow('contains "["');
    expect(hostWarnings("fe80::1")).toEqual(["the host fe80::1 is a link-local address on the local network"]);
    expect(hostWarnings("::1")).toEqual(["the host ::1 is this computer (loopback)"]);
    expect(hostWarnings("fd12:3456::1")).toEqual(["the host fd12:3456::1 is a private (unique local) address"]);
    expect(hostWarnings("::ffff:7f00:1")[0]).toContain("loopback");
    expect(hostWarnings("2001:db8::1")).toEqual([]);
  });
});
