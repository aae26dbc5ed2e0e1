import { SESSION_BUS_NAME, SESSION_MANAGER_INTERFACE, SESSION_MANAGER_PATH } from "../../shared/dbus-names.js";
import { ClanError, type ErrorCode } from "../../shared/errors.js";
import { decodeWireNetworkStatus, type WireNetworkStatus } from "./network-status-decoder.js";
import { WireCallError, WireConnection } from "./wire-connection.js";
import { WireVariant, type WireValue } from "./wire-values.js";

// clan-sessiond's members that `clanctl status|start|stop|pause|switch` call, over the small client of wire/:
// the same calls and errors as SessionClient (src/shared/session-client.ts), without dbus-next and zod.

const CLAN_ERROR_PREFIX = "org.clan.Desktop.Error.";
const PROPERTIES_INTERFACE = "org.freedesktop.DBus.Properties";
const NOT_RUNNING = ["org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"];

export class SessionWireClient {
  private constructor(private readonly connection: WireConnection) {}

  static async connect(): Promise<SessionWireClient> {
    return new SessionWireClient(await WireConnection.open());
  }

  async listNetworks(): Promise<WireNetworkStatus[]> {
    const [networks] = await this.call("ListNetworks");
    if (!Array.isArray(networks)) throw new ClanError("Protocol", "clan-sessiond's ListNetworks did not return a list");
    return networks.map(decodeWireNetworkStatus);
  }

  async getNetwork(name: string): Promise<WireNetworkStatus> {
    return decodeWireNetworkStatus((await this.call("GetNetwork", name))[0]);
  }

  async start(name: string): Promise<void> {
    await this.call("Start", name);
  }

  async stop(name: string): Promise<void> {
    await this.call("Stop", name);
  }

  async pause(name: string): Promise<void> {
    await this.call("Pause", name);
  }

  async switchTo(name: string): Promise<void> {
    await this.call("Switch", name);
  }

  async focusedNetwork(): Promise<string> {
    return this.stringProperty("FocusedNetwork");
  }

  /** "sway", "i3", or "none" while no window manager is attached. */
  async backend(): Promise<string> {
    return this.stringProperty("Backend");
  }

  async configError(): Promise<string> {
    return this.stringProperty("ConfigError");
  }

  close(): void {
    this.connection.close();
  }

  private async stringProperty(name: string): Promise<string> {
    const [variant] = await this.invoke(PROPERTIES_INTERFACE, "Get", [SESSION_MANAGER_INTERFACE, name]);
    if (!(variant instanceof WireVariant) || typeof variant.value !== "string") {
      throw new ClanError("Protocol", `clan-sessiond's property ${name} is not a string`);
    }
    return variant.value;
  }

  private call(member: string, ...args: string[]): Promise<WireValue[]> {
    return this.invoke(SESSION_MANAGER_INTERFACE, member, args);
  }

  private async invoke(iface: string, member: string, args: string[]): Promise<WireValue[]> {
    try {
      return await this.connection.call({ destination: SESSION_BUS_NAME, path: SESSION_MANAGER_PATH, interface: iface, member, args });
    } catch (error) {
      throw asClanError(error, member);
    }
  }
}

/** The ClanError a daemon's named error stands for (docs/dbus.md, "Errors"), as fromDbusError gives dbus-next's callers. */
function asClanError(error: unknown, member: string): unknown {
  if (!(error instanceof WireCallError)) return error;
  if (error.errorName.startsWith(CLAN_ERROR_PREFIX)) return new ClanError(error.errorName.slice(CLAN_ERROR_PREFIX.length) as ErrorCode, error.message);
  if (NOT_RUNNING.includes(error.errorName)) return new ClanError("Disconnected", `clan-sessiond is not running on this session bus (${SESSION_BUS_NAME})`);
  if (error.errorName === "org.freedesktop.DBus.Error.UnknownMethod") {
    return new ClanError("Protocol", `clan-sessiond does not offer ${member}: is it an older version?`);
  }
  return new ClanError("Protocol", `${member}: ${error.errorName}: ${error.message}`);
}
