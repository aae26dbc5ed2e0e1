import { createConnection } from "node:net";

// A pointer for headless sway, which has no input devices: a minimal Wayland client, speaking the wire protocol
// itself, that binds zwlr_virtual_pointer_manager_v1 and moves a virtual pointer. The seat gains the pointer
// capability while it is connected, so clients get real enter and motion events. No file descriptors are needed,
// which is why plain Node can do it.

const DISPLAY_ID = 1;
const BTN_LEFT = 0x110;
/** wl_pointer's axis and axis_source values. */
const VERTICAL_SCROLL = 0;
const WHEEL = 0;

export interface VirtualPointer {
  /** Puts the pointer at (x, y) of a layout `width` × `height` pixels large. */
  moveTo(x: number, y: number, width: number, height: number): Promise<void>;
  /** Presses and releases the left button where the pointer is. */
  click(): Promise<void>;
  /** Turns the wheel by `steps` notches where the pointer is: positive scrolls down. */
  scroll(steps: number): Promise<void>;
  close(): void;
}

export async function connectVirtualPointer(waylandSocket: string): Promise<VirtualPointer> {
  const socket = createConnection(waylandSocket);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const globals = new Map<string, { name: number; version: number }>();
  const doneCallbacks = new Map<number, () => void>();
  // The compositor requires every new object id to be the next one.
  let lastId = DISPLAY_ID;
  const newId = (): number => ++lastId;
  const registryId = newId();
  let buffered = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 8) {
      const object = buffered.readUInt32LE(0);
      const sizeAndOpcode = buffered.readUInt32LE(4);
      const size = sizeAndOpcode >>> 16;
      if (buffered.length < size) break;
      const opcode = sizeAndOpcode & 0xffff;
      const body = buffered.subarray(8, size);
      if (object === registryId && opcode === 0) {
        const length = body.readUInt32LE(4);
        const name = body.subarray(8, 8 + length - 1).toString("utf8");
        globals.set(name, { name: body.readUInt32LE(0), version: body.readUInt32LE(8 + padded(length)) });
      } else if (doneCallbacks.has(object) && opcode === 0) {
        doneCallbacks.get(object)!();
        doneCallbacks.delete(object);
      }
      buffered = buffered.subarray(size);
    }
  });
  const send = (object: number, opcode: number, args: Buffer[]): void => {
    const body = Buffer.concat(args);
    const header = Buffer.alloc(8);
    header.writeUInt32LE(object, 0);
    header.writeUInt32LE(((8 + body.length) << 16) | opcode, 4);
    socket.write(Buffer.concat([header, body]));
  };
  const roundtrip = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const id = newId();
      doneCallbacks.set(id, resolve);
      socket.once("error", reject);
      send(DISPLAY_ID, 0, [uint(id)]);
    });

  send(DISPLAY_ID, 1, [uint(registryId)]);
  await roundtrip();
  const manager = globals.get("zwlr_virtual_pointer_manager_v1");
  if (!manager) {
    socket.destroy();
    throw new Error("the compositor offers no zwlr_virtual_pointer_manager_v1");
  }
  const managerId = newId();
  send(registryId, 0, [uint(manager.name), string("zwlr_virtual_pointer_manager_v1"), uint(1), uint(managerId)]);
  // create_virtual_pointer(seat: null = the default seat, id)
  const pointerId = newId();
  send(managerId, 0, [uint(0), uint(pointerId)]);
  await roundtrip();
  return {
    async moveTo(x, y, width, height) {
      // motion_absolute(time, x, y, x_extent, y_extent), then frame
      send(pointerId, 1, [uint(Date.now() >>> 0), uint(x), uint(y), uint(width), uint(height)]);
      send(pointerId, 4, []);
      await roundtrip();
    },
    async click() {
      // button(time, button, state), each followed by frame; BTN_LEFT from linux/input-event-codes.h.
      for (const state of [1, 0]) {
        send(pointerId, 2, [uint(Date.now() >>> 0), uint(BTN_LEFT), uint(state)]);
        send(pointerId, 4, []);
      }
      await roundtrip();
    },
    async scroll(steps) {
      // axis_source(wheel), axis_discrete(time, vertical, value, discrete), frame; a notch is 15 units (libinput's).
      send(pointerId, 5, [uint(WHEEL)]);
      send(pointerId, 7, [uint(Date.now() >>> 0), uint(VERTICAL_SCROLL), fixed(15 * steps), uint(steps)]);
      send(pointerId, 4, []);
      await roundtrip();
    },
    close: () => socket.destroy(),
  };
}

/** Wayland's 24.8 fixed-point number. */
function fixed(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32LE(Math.round(value * 256), 0);
  return buffer;
}

function uint(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value >>> 0, 0);
  return buffer;
}

function string(value: string): Buffer {
  const bytes = Buffer.from(`${value}\0`, "utf8");
  const buffer = Buffer.alloc(4 + padded(bytes.length));
  buffer.writeUInt32LE(bytes.length, 0);
  bytes.copy(buffer, 4);
  return buffer;
}

function padded(length: number): number {
  return Math.ceil(length / 4) * 4;
}
