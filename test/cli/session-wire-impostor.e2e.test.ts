import { interface as dbusInterface, sessionBus, Variant, type MessageBus } from "@jellybrick/dbus-next";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_BUS_NAME, SESSION_MANAGER_INTERFACE, SESSION_MANAGER_PATH } from "../../src/shared/dbus-names.js";
import { initialNetworkStatus, NetworkStatusDictionary, type NetworkStatus } from "../../src/shared/session-api.js";
import { clanctl } from "../helpers/daemons.js";
import { startSessionBus, type SessionBus } from "../helpers/session-bus.js";

// Anyone on the session bus can own clan-sessiond's name while clan-sessiond is not running. Played here by an
// impostor on a real dbus-daemon whose replies are well-formed D-Bus (the bus checks that much) but not what
// clan-sessiond sends: clanctl's own small client must refuse them by name and exit 1, never print them as a
// status or hang.

const { Interface, method } = dbusInterface;

class ImpostorManager extends Interface {
  constructor() {
    super(SESSION_MANAGER_INTERFACE);
  }

  @method({ inSignature: "", outSignature: "as" })
  ListNetworks() {
    return ["family"];
  }

  @method({ inSignature: "s", outSignature: "a{sv}" })
  GetNetwork(name: string) {
    return { ...encodeNetworkStatus(initialNetworkStatus(name)), vmState: new Variant("u", 7) };
  }

  @method({ inSignature: "s", outSignature: "" })
  Stop(_name: string) {}
}

const encodeNetworkStatus = (status: NetworkStatus) => NetworkStatusDictionary.toWire(status) as Record<string, Variant>;

describe("clanctl's one-shot commands against an impostor of clan-sessiond", () => {
  let bus: SessionBus;
  let impostor: MessageBus;
  let env: Record<string, string>;

  beforeAll(async () => {
    bus = await startSessionBus();
    env = { DBUS_SESSION_BUS_ADDRESS: bus.address };
    impostor = sessionBus({ busAddress: bus.address });
    impostor.export(SESSION_MANAGER_PATH, new ImpostorManager());
    await impostor.requestName(SESSION_BUS_NAME, 0);
  });

  afterAll(async () => {
    impostor?.disconnect();
    await bus?.stop();
  });

  it("status refuses networks that are not dictionaries", async () => {
    const result = await clanctl(["status"], env);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toBe("clanctl: clan-sessiond sent a network status that is not a dictionary");
    expect(result.stdout).toBe("");
  });

  it("stop refuses a status whose field has another type, naming the field", async () => {
    const result = await clanctl(["stop", "family"], env);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toBe('clanctl: clan-sessiond sent a network status whose "vmState" is of type u, not s');
  });

  it("switch names the member the impostor does not offer", async () => {
    const result = await clanctl(["switch", "family"], env);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toBe("clanctl: clan-sessiond does not offer Switch: is it an older version?");
  });
});
