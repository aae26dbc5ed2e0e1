import { readFile } from "node:fs/promises";
import { Variant } from "@jellybrick/dbus-next";
import { describe, expect, it } from "vitest";
import { generatedFiles, renderDocs } from "../../scripts/dbus-contracts/render.js";
import { ContractProxy } from "../../src/shared/contracts/client.js";
import { decode } from "../../src/shared/contracts/define.js";
import { VmdManagerContract } from "../../src/shared/contracts/vmd.js";
import { ClanError } from "../../src/shared/errors.js";
import { NetworkStatus, NetworkStatusDictionary } from "../../src/shared/session-api.js";
import { VmStartOptionsDictionary, VmStatusDictionary, type VmStatus } from "../../src/shared/vm-api.js";
import { REPO } from "../helpers/daemons.js";

// The D-Bus contracts (src/shared/contracts/) are the one source of the introspection XML, docs/dbus.md's
// reference tables and the GNOME extension's copy: these fail while a committed file lags behind.

describe("files generated from the D-Bus contracts (run `npm run schemas` after changing a contract)", () => {
  for (const file of generatedFiles()) {
    it(`${file.path} is up to date`, async () => {
      expect(await readFile(`${REPO}/${file.path}`, "utf8")).toBe(file.text);
    });
  }

  it("docs/dbus.md's generated sections are up to date", async () => {
    const docs = await readFile(`${REPO}/docs/dbus.md`, "utf8");
    expect(renderDocs(docs)).toBe(docs);
  });
});

const status: VmStatus = {
  network: "family",
  state: "running",
  generation: "/g",
  pid: 42,
  accelerator: "tcg",
  since: 1700000000000,
  error: "",
  display: "spice",
  displaySocket: "/run/s",
  waypipeSockets: ["/run/w0", "/run/w1"],
  vpnState: "up",
  vpnPeers: 2,
  vpnLastHandshake: 5,
};

describe("a{sv} dictionaries from the contract", () => {
  it("encode every field with its signature and decode back to the same value", () => {
    const wire = VmStatusDictionary.toWire(status) as Record<string, Variant>;
    expect(Object.fromEntries(Object.entries(wire).map(([key, value]) => [key, value.signature]))).toEqual({
      network: "s",
      state: "s",
      generation: "s",
      pid: "u",
      accelerator: "s",
      since: "d",
      error: "s",
      display: "s",
      displaySocket: "s",
      waypipeSockets: "as",
      vpnState: "s",
      vpnPeers: "u",
      vpnLastHandshake: "d",
    });
    expect(decode(VmStatusDictionary, wire)).toEqual(status);
  });

  it("fill the fields an older peer does not send with their defaults, and ignore keys they do not know", () => {
    const { vpnState: _state, vpnPeers: _peers, vpnLastHandshake: _handshake, waypipeSockets: _sockets, ...old } = status;
    const wire = { ...(VmStatusDictionary.toWire(old) as object), newerKey: new Variant("s", "x") };
    expect(decode(VmStatusDictionary, wire)).toEqual({ ...status, vpnState: "none", vpnPeers: 0, vpnLastHandshake: 0, waypipeSockets: [] });
  });

  it("carry lists of dictionaries and structs", () => {
    const network = NetworkStatus.parse({
      name: "a",
      label: "a",
      colour: "#000000",
      workspaces: ["1"],
      vmState: "running",
      shares: [{ tag: "t", path: "/p", readWrite: true, granted: false }],
      forwards: [{ hostPort: 8080, guestPort: 80 }],
    });
    const wire = NetworkStatusDictionary.toWire(network) as Record<string, Variant>;
    expect(wire.shares?.signature).toBe("aa{sv}");
    expect(decode(NetworkStatusDictionary, wire)).toEqual(network);
    const options = VmStartOptionsDictionary.toWire({ memoryMiB: 512, shareGrants: [{ path: "/home/u/Sync" }] }) as Record<string, Variant>;
    expect(options.shareGrants).toEqual(new Variant("a(sb)", [["/home/u/Sync", false]]));
    expect(decode(VmStartOptionsDictionary, options)).toEqual({ memoryMiB: 512, shareGrants: [{ path: "/home/u/Sync", readWrite: false }] });
  });
});

describe("a served contract", () => {
  it("answers a bad argument with InvalidArgument naming the argument and the field", async () => {
    const { exportVmdApi } = await import("../../src/vmd/dbus-service.js");
    const exported: Record<string, (...args: unknown[]) => Promise<unknown>>[] = [];
    const bus = { export: (_path: string, iface: never) => exported.push(iface) };
    const manager = { on: () => undefined, start: () => Promise.reject(new Error("must not start")) };
    exportVmdApi(bus as never, manager as never, () => undefined, () => undefined);
    const start = exported[0]!.Start!;
    await expect(start.call(exported[0], "family", "/g", { memoryMiB: new Variant("u", 1) })).rejects.toMatchObject({
      type: "org.clan.Desktop.Error.InvalidArgument",
      text: expect.stringMatching(/^Start: invalid options\.memoryMiB: /) as unknown,
    });
    await expect(start.call(exported[0], "family", "/g", { surprise: new Variant("s", "x") })).rejects.toMatchObject({
      type: "org.clan.Desktop.Error.InvalidArgument",
      text: expect.stringMatching(/options/) as unknown,
    });
  });

  it("is called by a client that validates the reply", async () => {
    const reply = { ...(VmStatusDictionary.toWire(status) as object), pid: new Variant("u", -1) };
    const proxy = { Stop: () => Promise.resolve(reply), on: () => undefined };
    const bus = { getProxyObject: () => Promise.resolve({ getInterface: () => proxy }) };
    const client = await ContractProxy.connect(bus as never, "clan-vmd", "org.example", "/org/example", VmdManagerContract);
    await expect(client.call("Stop", "family")).rejects.toBeInstanceOf(ClanError);
    await expect(client.call("Stop", "family")).rejects.toMatchObject({ code: "Protocol" });
  });
});
