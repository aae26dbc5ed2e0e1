import { ClanError } from "../shared/errors.js";

// The sizes in QEMU's Scanout and Update messages come, in the end, from the guest: each is checked before its
// pixels become a texture, and a message that does not fit the screen or its own data is refused whole.

/** pixman's x8r8g8b8 and a8r8g8b8: 32-bit pixels, B G R X/A in memory on little-endian hosts. */
export const PIXMAN_X8R8G8B8 = 0x20020888;
const PIXMAN_A8R8G8B8 = 0x20028888;
const BYTES_PER_PIXEL = 4;
/** Larger than any real monitor; keeps one scanout from asking for gigabytes. */
const MAX_SIDE = 16384;

export interface ScreenSize {
  width: number;
  height: number;
}

export interface PixelRect extends ScreenSize {
  x: number;
  y: number;
}

export function checkScanout(size: ScreenSize, stride: number, format: number, dataLength: number): void {
  const { width, height } = size;
  checkFormat(format);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) {
    throw new ClanError("InvalidArgument", `a scanout of ${width}x${height} pixels is outside 1..${MAX_SIDE} on each side`);
  }
  checkRows(size, stride, dataLength);
}

export function checkUpdate(screen: ScreenSize, rect: PixelRect, stride: number, format: number, dataLength: number): void {
  checkFormat(format);
  checkRect(screen, rect);
  checkRows(rect, stride, dataLength);
}

/**
 * A ScanoutMap (QEMU ≥ 9.2): the screen is `size` pixels at `stride` bytes a row from `offset` in QEMU's memory
 * file of `fileSize` bytes. Every row the texture reads, padding included, must lie inside the file.
 */
export function checkScanoutMap(size: ScreenSize, stride: number, format: number, offset: number, fileSize: number): void {
  checkScanout(size, stride, format, Number.MAX_SAFE_INTEGER);
  // Cairo draws rows that start on a pixel's boundary only.
  if (stride % BYTES_PER_PIXEL !== 0) throw new ClanError("InvalidArgument", `a stride of ${stride} bytes is not a whole number of pixels`);
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(fileSize) || offset + stride * size.height > fileSize) {
    throw new ClanError("InvalidArgument", `${size.height} rows of ${stride} bytes from offset ${offset} do not fit QEMU's memory file of ${fileSize} bytes`);
  }
}

/** An UpdateMap names only the changed rectangle of the mapped screen. */
export function checkRect(screen: ScreenSize, rect: PixelRect): void {
  const { x, y, width, height } = rect;
  if (![x, y, width, height].every(Number.isInteger) || x < 0 || y < 0 || width < 1 || height < 1 || x + width > screen.width || y + height > screen.height) {
    throw new ClanError("InvalidArgument", `an update of ${width}x${height} at ${x},${y} is outside the ${screen.width}x${screen.height} screen`);
  }
}

function checkFormat(format: number): void {
  if (format !== PIXMAN_X8R8G8B8 && format !== PIXMAN_A8R8G8B8) {
    throw new ClanError("InvalidArgument", `pixel format 0x${format.toString(16)} is not a 32-bit RGB format the viewer draws`);
  }
}

function checkRows({ width, height }: ScreenSize, stride: number, dataLength: number): void {
  if (!Number.isInteger(stride) || stride < width * BYTES_PER_PIXEL || stride > width * BYTES_PER_PIXEL + 4096) {
    throw new ClanError("InvalidArgument", `a stride of ${stride} bytes does not fit rows of ${width} pixels`);
  }
  const needed = stride * (height - 1) + width * BYTES_PER_PIXEL;
  if (dataLength < needed) {
    throw new ClanError("InvalidArgument", `${dataLength} bytes of pixels are fewer than the ${needed} that ${width}x${height} at stride ${stride} need`);
  }
}
