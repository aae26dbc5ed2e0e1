import { describe, expect, it } from "vitest";
import { accessLines } from "../../src/shared/access-lines.js";
import { describeAccess, describeRefusal, GrantPath, judgeShare, normalisePath, type ShareGrant } from "../../src/shared/share-grants.js";
import { parseShareGrant } from "../../src/cli/vm-commands.js";

// The grant matcher: which shares of a generation the user's grants allow. Paths here are already resolved;
// the resolution of symlinks is proven against real directories in test/vmd/share-grants.e2e.test.ts.

const share = (source: string, readOnly = true) => ({ tag: "data", source, readOnly });
const ro = (path: string): ShareGrant => ({ path, readWrite: false });
const rw = (path: string): ShareGrant => ({ path, readWrite: true });

describe("judgeShare", () => {
  it("refuses every share when nothing is granted", () => {
    expect(judgeShare(share("/home/u/.ssh"), "/home/u/.ssh", [])).toEqual({ kind: "not-granted" });
  });

  it("a grant covers its directory and everything below, and nothing beside it", () => {
    const grants = [ro("/home/u/Sync")];
    expect(judgeShare(share("/home/u/Sync"), "/home/u/Sync", grants).kind).toBe("granted");
    expect(judgeShare(share("/home/u/Sync/photos"), "/home/u/Sync/photos", grants).kind).toBe("granted");
    expect(judgeShare(share("/home/u/Sync2"), "/home/u/Sync2", grants).kind).toBe("not-granted");
    expect(judgeShare(share("/home/u"), "/home/u", grants).kind).toBe("not-granted");
  });

  it("judges the resolved path, not the name vm.json gives", () => {
    expect(judgeShare(share("/home/u/Sync/link"), "/home/u/.ssh", [ro("/home/u/Sync")]).kind).toBe("not-granted");
  });

  it("read-only is the default: writing needs a read-write grant covering the share", () => {
    expect(judgeShare(share("/home/u/Sync", false), "/home/u/Sync", [ro("/home/u/Sync")])).toEqual({ kind: "read-only-grant", grant: "/home/u/Sync" });
    expect(judgeShare(share("/home/u/Sync/a", false), "/home/u/Sync/a", [ro("/home/u/Sync"), rw("/home/u/Sync/a")]).kind).toBe("granted");
    expect(judgeShare(share("/home/u/Sync", true), "/home/u/Sync", [rw("/home/u/Sync")]).kind).toBe("granted");
  });

  it("the read-only Nix store needs no grant; a writable store share is refused even with a grant", () => {
    expect(judgeShare(share("/nix/store"), "/nix/store", []).kind).toBe("store");
    expect(judgeShare(share("/nix/store", false), "/nix/store", [rw("/nix/store")]).kind).toBe("store-read-write");
    // A source that only resolves to the store is no store share: it needs a grant like any other.
    expect(judgeShare(share("/home/u/store"), "/nix/store", []).kind).toBe("not-granted");
  });

  it("a grant of / covers everything", () => {
    expect(judgeShare(share("/etc"), "/etc", [ro("/")]).kind).toBe("granted");
  });
});

describe("describeRefusal", () => {
  it("names the share, its path, the resolved path and the config field that grants it", () => {
    const request = share("/home/u/Sync/link");
    const message = describeRefusal(request, "/home/u/.ssh", judgeShare(request, "/home/u/.ssh", []), "family");
    expect(message).toBe(
      'share "data" of /home/u/Sync/link (which resolves to /home/u/.ssh) is not granted: to allow it, add {"path": "/home/u/.ssh"} to networks.family.grants.shares in config.json (read-only unless "readWrite": true)',
    );
  });

  it("tells how to allow writes when the grant is read-only", () => {
    const request = share("/home/u/Sync", false);
    const message = describeRefusal(request, "/home/u/Sync", judgeShare(request, "/home/u/Sync", [ro("/home/u")]), "club");
    expect(message).toMatch(/share "data" asks to write to \/home\/u\/Sync, but \/home\/u is granted read-only: set "readWrite": true .*networks\.club\.grants\.shares/);
  });

  it("says nothing of an allowed share", () => {
    expect(describeRefusal(share("/a"), "/a", { kind: "granted" }, "n")).toBeUndefined();
  });
});

describe("describeAccess", () => {
  it("lists shares with their access and verdict, forwards and the network mode", () => {
    const vm = {
      shares: [share("/home/u/Sync", false), share("/home/u/.ssh"), { tag: "store", source: "/nix/store", readOnly: true }],
      network: { mode: "user", forwards: [{ hostPort: 8080, guestPort: 80 }] },
    };
    const access = describeAccess(vm, [rw("/home/u/Sync")]);
    expect(access).toEqual({
      shares: [
        { tag: "data", path: "/home/u/Sync", readWrite: true, granted: true },
        { tag: "data", path: "/home/u/.ssh", readWrite: false, granted: false },
        { tag: "store", path: "/nix/store", readWrite: false, granted: true },
      ],
      forwards: [{ hostPort: 8080, guestPort: 80 }],
      networkMode: "user",
    });
    expect(accessLines(access)).toEqual([
      "network: user",
      "share data: /home/u/Sync (read-write, granted)",
      "share data: /home/u/.ssh (read-only, NOT granted: the VM will not start)",
      "share store: /nix/store (read-only, granted)",
      "forward: host port 8080 → guest port 80",
    ]);
  });

  it("judges lexically normalised paths unless given a resolver: /a/b/../.ssh is /a/.ssh", () => {
    const vm = { shares: [share("/home/u/Sync/../.ssh")], network: { mode: "none", forwards: [] } };
    expect(describeAccess(vm, [ro("/home/u/Sync")]).shares[0]?.granted).toBe(false);
    expect(describeAccess(vm, [ro("/home/u/Sync")], () => "/home/u/Sync/x").shares[0]?.granted).toBe(true);
  });
});

describe("grant paths", () => {
  it("must be absolute and normalised", () => {
    expect(GrantPath.safeParse("/home/u/Sync").success).toBe(true);
    expect(GrantPath.safeParse("/").success).toBe(true);
    for (const bad of ["home/u", "/home/u/", "/home//u", "/home/u/../root", "/home/./u", ""]) {
      expect(GrantPath.safeParse(bad).success, bad).toBe(false);
    }
    expect(GrantPath.safeParse("/home/u/../root").error?.issues[0]?.message).toContain('"/home/root"');
  });

  it("normalisePath drops '.', '..' and repeated slashes, and never climbs above /", () => {
    expect(normalisePath("/a//b/./c/../d/")).toBe("/a/b/d");
    expect(normalisePath("/../../etc")).toBe("/etc");
  });

  it("clanctl vm start --share PATH[:rw]", () => {
    expect(parseShareGrant("/srv/data")).toEqual({ path: "/srv/data", readWrite: false });
    expect(parseShareGrant("/srv/data:rw")).toEqual({ path: "/srv/data", readWrite: true });
    expect(parseShareGrant("/srv/data:ro")).toEqual({ path: "/srv/data", readWrite: false });
    expect(() => parseShareGrant("srv:rw")).toThrow(/--share "srv:rw": the path must be an absolute path/);
  });
});
