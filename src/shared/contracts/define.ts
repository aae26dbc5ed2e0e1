import { Variant } from "@jellybrick/dbus-next";
import { z } from "zod";
import { ClanError, type ErrorCode } from "../errors.js";

// The building blocks of a D-Bus contract (contracts/vmd.ts, contracts/session.ts). A codec says how one value
// crosses the bus: its D-Bus signature, the zod schema of its JavaScript value, and the conversion to and from
// dbus-next's wire form. An interface is a list of methods, properties and signals whose arguments are codecs.
// The services, the clients, the introspection XML, docs/dbus.md and the GNOME extension's copy are all derived
// from these declarations (docs/dbus.md, "Adding a method or a field").

export interface Codec<Out, In = Out> {
  readonly signature: string;
  readonly schema: z.ZodType<Out, In>;
  /** For a dictionary (or a list of one): its name and fields, which docs/dbus.md and the GNOME extension list. */
  readonly dictionary?: { readonly name: string; readonly fields: Readonly<Record<string, DictionaryField>> };
  toWire(value: In): unknown;
  /** Strips variants and structs, so that `schema` checks plain values. */
  fromWire(wire: unknown): unknown;
}

/** A value whose wire form is the value itself (strings, numbers, booleans, and arrays of them). */
export function plain<Out, In = Out>(signature: string, schema: z.ZodType<Out, In>): Codec<Out, In> {
  return { signature, schema, toWire: (value) => value, fromWire: (wire) => wire };
}

export const str = plain("s", z.string());
export const u32 = plain("u", z.number().int().min(0).max(0xffffffff));
export const i32 = plain("i", z.number().int().min(-0x80000000).max(0x7fffffff));
export const bool = plain("b", z.boolean());
export const strings = plain("as", z.array(z.string()));

export function list<Out, In>(item: Codec<Out, In>): Codec<Out[], In[]> {
  return {
    signature: `a${item.signature}`,
    schema: z.array(item.schema),
    ...(item.dictionary ? { dictionary: item.dictionary } : {}),
    toWire: (values) => values.map((value) => item.toWire(value)),
    fromWire: (wire) => (Array.isArray(wire) ? wire.map((value) => item.fromWire(value)) : wire),
  };
}

/** A struct `(…)` whose members are the object's keys in this order. */
export function struct<S extends z.ZodObject>(schema: S, members: readonly { key: keyof z.output<S> & string; signature: string; missing?: unknown }[]): Codec<z.output<S>, z.input<S>> {
  return {
    signature: `(${members.map((member) => member.signature).join("")})`,
    schema: schema as unknown as z.ZodType<z.output<S>, z.input<S>>,
    toWire: (value) => members.map(({ key, missing }) => (value as Record<string, unknown>)[key] ?? missing),
    fromWire: (wire) => (Array.isArray(wire) ? Object.fromEntries(members.map(({ key }, index) => [key, wire[index] as unknown])) : wire),
  };
}

export interface DictionaryField {
  readonly codec: Codec<unknown, unknown>;
  /** One line for docs/dbus.md: what the value means, its units, its empty value. */
  readonly doc: string;
}

// `any` on the input side: a field's codec may accept a looser input (defaults) than it outputs.
type FieldSpecs<Out> = { readonly [K in keyof Out]-?: { readonly codec: string | Codec<Exclude<Out[K], undefined>, any>; readonly doc: string } };

/**
 * An `a{sv}` dictionary whose keys are the fields of a zod object. Flat values are given by their signature; a
 * nested list of dictionaries by its codec. Clients ignore keys they do not know; a field whose schema has a
 * default may be missing (an older peer), and the default stands in.
 */
export function dictionary<S extends z.ZodObject>(name: string, schema: S, specs: FieldSpecs<z.output<S>>): Codec<z.output<S>, z.input<S>> {
  const fields = Object.fromEntries(
    Object.entries(specs as Record<string, { codec: string | Codec<unknown, unknown>; doc: string }>).map(([key, { codec, doc }]) => [
      key,
      { codec: typeof codec === "string" ? plain(codec, z.unknown()) : codec, doc },
    ]),
  ) as Record<string, DictionaryField>;
  return {
    signature: "a{sv}",
    schema: schema as unknown as z.ZodType<z.output<S>, z.input<S>>,
    dictionary: { name, fields },
    toWire: (value) =>
      Object.fromEntries(
        Object.entries(fields)
          .filter(([key]) => (value as Record<string, unknown>)[key] !== undefined)
          .map(([key, field]) => [key, new Variant(field.codec.signature, field.codec.toWire((value as Record<string, unknown>)[key]))]),
      ),
    fromWire: (wire) => {
      if (typeof wire !== "object" || wire === null || Array.isArray(wire)) return wire;
      return Object.fromEntries(
        Object.entries(wire).map(([key, item]) => {
          const value = item instanceof Variant ? (item.value as unknown) : item;
          // Own fields only: a peer's key "constructor" or "toString" names no field, whatever Object.prototype has.
          return [key, Object.hasOwn(fields, key) ? fields[key]!.codec.fromWire(value) : value];
        }),
      );
    },
  };
}

/** The value `codec` carries, validated: a peer that sent something else gets a zod error. */
export function decode<Out, In>(codec: Codec<Out, In>, wire: unknown): Out {
  return codec.schema.parse(codec.fromWire(wire));
}

export interface Arg<Out = unknown, In = Out> {
  readonly name: string;
  readonly codec: Codec<Out, In>;
}

export function arg<Out, In>(name: string, codec: Codec<Out, In>): Arg<Out, In> {
  return { name, codec };
}

export interface MethodSpec {
  readonly in: readonly Arg<any, any>[];
  readonly out: readonly Arg<any, any>[];
  readonly doc: string;
  /** Errors the method may return besides Internal (docs/dbus.md). */
  readonly errors?: readonly ErrorCode[];
}

export interface PropertySpec {
  readonly codec: Codec<any, any>;
  readonly doc: string;
}

export interface SignalSpec {
  readonly args: readonly Arg<any, any>[];
  readonly doc: string;
}

export interface InterfaceContract {
  readonly name: string;
  readonly doc: string;
  readonly methods: Readonly<Record<string, MethodSpec>>;
  readonly properties: Readonly<Record<string, PropertySpec>>;
  readonly signals: Readonly<Record<string, SignalSpec>>;
}

/** Keeps the literal types of a contract, so that services and clients are typed by it. */
export function defineInterface<const C extends InterfaceContract>(contract: C): C {
  return contract;
}

/** The JavaScript values of a list of arguments, as a handler receives them (decoded) or a client passes them. */
export type Decoded<A extends readonly Arg<any, any>[]> = { -readonly [I in keyof A]: A[I] extends Arg<infer Out, any> ? Out : never };
export type Encodable<A extends readonly Arg<any, any>[]> = { -readonly [I in keyof A]: A[I] extends Arg<any, infer In> ? In : never };

/** What a method returns: nothing, its one value, or a tuple. */
export type Result<A extends readonly Arg<any, any>[], Which extends "in" | "out"> = A extends readonly []
  ? void
  : A extends readonly [Arg<infer Out, infer In>]
    ? Which extends "out" ? Out : In
    : Which extends "out" ? Decoded<A> : Encodable<A>;

export type PropertyValue<P extends PropertySpec> = P["codec"] extends Codec<infer Out, any> ? Out : never;

/** `InvalidArgument` naming the argument and the field, for a value that does not fit the contract. */
export function decodeArgument(method: string, argument: Arg<unknown, unknown>, wire: unknown): unknown {
  const parsed = argument.codec.schema.safeParse(argument.codec.fromWire(wire));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = [argument.name, ...(issue?.path ?? []).map(String)].join(".");
  throw new ClanError("InvalidArgument", `${method}: invalid ${where}: ${issue?.message ?? "invalid"}`);
}

export function encodeResult(spec: MethodSpec, value: unknown): unknown {
  if (spec.out.length === 0) return undefined;
  if (spec.out.length === 1) return spec.out[0]!.codec.toWire(value);
  return spec.out.map((out, index) => out.codec.toWire((value as unknown[])[index]));
}

export function decodeResult(spec: MethodSpec, wire: unknown): unknown {
  if (spec.out.length === 0) return undefined;
  if (spec.out.length === 1) return decode(spec.out[0]!.codec, wire);
  if (!Array.isArray(wire)) throw new ClanError("Protocol", "expected several return values");
  return spec.out.map((out, index) => decode(out.codec, wire[index]));
}

export function signatureOf(args: readonly Arg<any, any>[]): string {
  return args.map((item) => item.codec.signature).join("");
}
