import type { ClientInterface, MessageBus } from "@jellybrick/dbus-next";
import { z } from "zod";
import { ClanError } from "../errors.js";
import { callMember, onDecodedSignal } from "../proxy-calls.js";
import { decode, decodeResult, type Decoded, type Encodable, type InterfaceContract, type PropertyValue, type Result } from "./define.js";

// Calls a contract through a dbus-next proxy: arguments are encoded and replies and signals validated by the
// codecs the contract declares, so the typed clients (VmdClient, SessionClient) only name members.

const PROPERTIES_INTERFACE = "org.freedesktop.DBus.Properties";

function describeMismatch(error: unknown): string {
  if (error instanceof z.ZodError) {
    const issue = error.issues[0];
    return `${issue?.path.join(".") || "(value)"}: ${issue?.message ?? "invalid"}`;
  }
  return error instanceof Error ? error.message : String(error);
}

export class ContractProxy<C extends InterfaceContract> {
  private constructor(
    private readonly contract: C,
    private readonly daemon: string,
    private readonly proxy: ClientInterface,
    private readonly properties: ClientInterface | undefined,
  ) {}

  /** `daemon` names the service in errors ("clan-vmd"); Disconnected when it is not on the bus. */
  static async connect<C extends InterfaceContract>(bus: MessageBus, daemon: string, busName: string, path: string, contract: C): Promise<ContractProxy<C>> {
    try {
      const object = await bus.getProxyObject(busName, path);
      const properties = Object.keys(contract.properties).length > 0 ? object.getInterface(PROPERTIES_INTERFACE) : undefined;
      return new ContractProxy(contract, daemon, object.getInterface(contract.name), properties);
    } catch (error) {
      throw new ClanError("Disconnected", `${daemon} is not running on this session bus (${busName})`, { cause: error });
    }
  }

  async call<M extends keyof C["methods"] & string>(
    methodName: M,
    ...args: Encodable<C["methods"][M]["in"]>
  ): Promise<Result<C["methods"][M]["out"], "out">> {
    const spec = this.contract.methods[methodName]!;
    const wire = spec.in.map((argument, index) => argument.codec.toWire((args as unknown[])[index]));
    const reply = await callMember(this.proxy, this.daemon, methodName, wire);
    try {
      return decodeResult(spec, reply) as Result<C["methods"][M]["out"], "out">;
    } catch (error) {
      throw new ClanError("Protocol", `${this.daemon} answered ${methodName} with something else than its contract says: ${describeMismatch(error)}`, {
        cause: error,
      });
    }
  }

  async get<P extends keyof C["properties"] & string>(propertyName: P): Promise<PropertyValue<C["properties"][P]>> {
    if (!this.properties) throw new ClanError("Protocol", `${this.contract.name} has no properties`);
    const variant = (await callMember(this.properties, this.daemon, "Get", [this.contract.name, propertyName])) as { value: unknown };
    return decode(this.contract.properties[propertyName]!.codec, variant.value) as PropertyValue<C["properties"][P]>;
  }

  /** Subscribes to a one-argument signal, validated by its codec; returns the unsubscribe function. */
  on<S extends keyof C["signals"] & string>(
    signalName: S,
    listener: (value: Decoded<C["signals"][S]["args"]>[0]) => void,
    onInvalid: (error: Error) => void,
  ): () => void {
    const codec = this.contract.signals[signalName]!.args[0]!.codec;
    return onDecodedSignal(this.proxy, signalName, (raw) => decode(codec, raw) as Decoded<C["signals"][S]["args"]>[0], listener, onInvalid);
  }
}
