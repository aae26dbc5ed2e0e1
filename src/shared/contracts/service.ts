import { interface as dbusInterface, type MessageBus } from "@jellybrick/dbus-next";
import { asDbusCall } from "../dbus-errors.js";
import { decodeArgument, encodeResult, signatureOf, type Decoded, type Encodable, type InterfaceContract, type PropertyValue, type Result } from "./define.js";

// Serves a contract: one dbus-next Interface whose members come from the declaration, each argument validated
// by its codec (a bad value is InvalidArgument naming it) and each result encoded by its codec. The members are
// registered through dbus-next's standard-decorator functions, called here by hand: its configureMembers() is
// shadowed by its own constructor (docs/decisions/dbus-library.md).

const { Interface, ACCESS_READ, method, signal, property } = dbusInterface;

type Awaitable<T> = T | Promise<T>;

export type MethodHandlers<C extends InterfaceContract> = {
  readonly [M in keyof C["methods"]]: (...args: Decoded<C["methods"][M]["in"]>) => Awaitable<Result<C["methods"][M]["out"], "in">>;
};

export type PropertyGetters<C extends InterfaceContract> = {
  readonly [P in keyof C["properties"]]: () => PropertyValue<C["properties"][P]>;
};

type SignalArgs<C extends InterfaceContract, S extends keyof C["signals"]> = Encodable<C["signals"][S]["args"]>;

/** An exported contract: emit its signals and announce its properties' changes with typed values. */
export interface ServedInterface<C extends InterfaceContract> {
  emitSignal<S extends keyof C["signals"] & string>(signalName: S, ...args: SignalArgs<C, S>): void;
  propertiesChanged(changed: { [P in keyof C["properties"]]?: PropertyValue<C["properties"][P]> }): void;
}

interface DecoratorContext {
  kind: string;
  name: string;
  addInitializer(initializer: (this: unknown) => void): void;
}

/** What a decorator needs of its context: the member's name, and initializers that run on this instance now. */
function contextFor(target: object, kind: string, name: string): DecoratorContext {
  return { kind, name, addInitializer: (initializer) => initializer.call(target) };
}

class ContractInterface<C extends InterfaceContract> extends Interface implements ServedInterface<C> {
  constructor(
    private readonly contract: C,
    handlers: MethodHandlers<C>,
    getters: PropertyGetters<C>,
  ) {
    super(contract.name);
    const decorate = (decorator: unknown, fn: unknown, kind: string, name: string): unknown =>
      (decorator as (fn: unknown, context: DecoratorContext) => unknown)(fn, contextFor(this, kind, name));
    for (const [name, spec] of Object.entries(contract.methods)) {
      const handler = (handlers as Record<string, (...args: unknown[]) => unknown>)[name]!;
      const served = (...wire: unknown[]) =>
        asDbusCall(async () => {
          const args = spec.in.map((argument, index) => decodeArgument(name, argument, wire[index]));
          return encodeResult(spec, await handler(...args));
        });
      decorate(method({ inSignature: signatureOf(spec.in), outSignature: signatureOf(spec.out) }), served, "method", name);
      Object.defineProperty(this, name, { value: served });
    }
    for (const [name, spec] of Object.entries(contract.properties)) {
      const getter = (getters as Record<string, () => unknown>)[name]!;
      const read = () => spec.codec.toWire(getter());
      Object.defineProperty(this, name, { get: read, enumerable: true });
      decorate(property({ signature: spec.codec.signature, access: ACCESS_READ }), read, "getter", name);
    }
    for (const [name, spec] of Object.entries(contract.signals)) {
      const build = (...values: unknown[]) => {
        const wire = spec.args.map((argument, index) => argument.codec.toWire(values[index]));
        return spec.args.length === 1 ? wire[0] : wire;
      };
      const emitter = decorate(signal({ signature: signatureOf(spec.args) }), build, "method", name);
      Object.defineProperty(this, name, { value: emitter });
    }
  }

  emitSignal<S extends keyof C["signals"] & string>(signalName: S, ...args: SignalArgs<C, S>): void {
    (this as unknown as Record<string, (...values: unknown[]) => void>)[signalName]!(...(args as unknown[]));
  }

  propertiesChanged(changed: { [P in keyof C["properties"]]?: PropertyValue<C["properties"][P]> }): void {
    const wire = Object.fromEntries(
      Object.entries(changed).map(([name, value]) => [name, this.contract.properties[name]!.codec.toWire(value)]),
    );
    Interface.emitPropertiesChanged(this, wire);
  }
}

/** Exports `contract` at `path`, served by `handlers` and `getters`. */
export function serveContract<C extends InterfaceContract>(
  bus: MessageBus,
  path: string,
  contract: C,
  handlers: MethodHandlers<C>,
  getters: PropertyGetters<C>,
): ServedInterface<C> {
  const served = new ContractInterface(contract, handlers, getters);
  bus.export(path, served);
  return served;
}
