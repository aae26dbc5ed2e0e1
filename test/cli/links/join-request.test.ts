import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { describeJoinRequest, readSourceVmSpec } from "../../../src/cli/links/join-request.js";
import type { NetworkRequest } from "../../../src/cli/links/network-request.js";
import { JoinRequest } from "../../../src/shared/join-links/fetched-join.js";

// What the join's second question describes, from a fetched source read as data: the flake's own vm.json (its
// shares, forwards, network mode) when it has one, configs.json's fixed access otherwise; a hostile vm.json is
// refused naming the field, and what it writes beyond the description's bounds is cut, never let through whole.

const NOT_DESCRIBED: NetworkRequest = { system: "x86_64-linux", machines: [], machine: "default", attribute: "packages.x86_64-linux.default", entry: undefined, problem: "the flake has no configs.json" };
const NO_INPUTS = { hasLockFile: true, inputs: [], originals: new Map(), urls: [] };

describe("the join's request", () => {
  let source: string;
  beforeEach(async () => {
    source = await mkdtemp(join(tmpdir(), "clan-join-request-"));
  });
  afterEach(() => rm(source, { recursive: true, force: true }));

  it("shows the shares, forwards and network mode the source's vm.json asks for", async () => {
    await writeFile(join(source, "vm.json"), JSON.stringify({ shares: [{ tag: "home", source: "/home/user" }], network: { mode: "user", forwards: [{ hostPort: 2222, guestPort: 22 }] } }));
    const request = describeJoinRequest(NOT_DESCRIBED, NO_INPUTS, await readSourceVmSpec(source));
    expect(JoinRequest.parse(request)).toMatchObject({
      accessFrom: "vm.json",
      networkMode: "user",
      shares: [{ tag: "home", source: "/home/user", readOnly: false }],
      forwards: [{ hostPort: 2222, guestPort: 22 }],
      vm: null,
      notDescribed: "the flake has no configs.json",
    });
  });

  it("without a vm.json or configs.json, access is unknown until built", async () => {
    expect(await readSourceVmSpec(source)).toBeUndefined();
    expect(describeJoinRequest(NOT_DESCRIBED, NO_INPUTS, undefined)).toMatchObject({ accessFrom: "unknown", networkMode: "unknown", shares: [], forwards: [] });
  });

  it("refuses a vm.json that is not one, or not a regular file", async () => {
    await writeFile(join(source, "vm.json"), JSON.stringify({ shares: [{ tag: "x\u001b[2J", source: "/a" }] }));
    await expect(readSourceVmSpec(source)).rejects.toThrow(/the flake's vm\.json: field shares\.0\.tag: a share tag is/);
    await rm(join(source, "vm.json"));
    await symlink("/etc/passwd", join(source, "vm.json"));
    await expect(readSourceVmSpec(source)).rejects.toThrow("the flake's vm.json is not a regular file");
  });

  it("cuts overlong names from the flake to the description's bounds", async () => {
    const long = `/${"a".repeat(5000)}`;
    await writeFile(join(source, "vm.json"), JSON.stringify({ shares: [{ tag: "t", source: long }] }));
    const locked = { ...NO_INPUTS, inputs: [{ path: "p".repeat(3000), source: "s", kinds: [] }] };
    const request = JoinRequest.parse(describeJoinRequest(NOT_DESCRIBED, locked, await readSourceVmSpec(source)));
    expect(request.shares[0]!.source).toHaveLength(1000);
    expect(request.inputs[0]!.path).toHaveLength(1000);
  });
});
