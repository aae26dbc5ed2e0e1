// QEMU's D-Bus Keyboard takes "qnum" key numbers: PC scancode set 1, with an 0xe0-prefixed key as 0x80 | code.
// GTK reports hardware keycodes, which on X11 and Wayland are Linux evdev codes plus 8.

const EVDEV_OFFSET = 8;

// Set 1 matches evdev for the main block (Esc .. keypad '.'); the rest is listed.
const LAST_IDENTICAL_EVDEV = 83;
const EXTENDED: ReadonlyMap<number, number> = new Map([
  [86, 0x56], // 102nd key
  [87, 0x57], // F11
  [88, 0x58], // F12
  [96, 0x9c], // keypad Enter
  [97, 0x9d], // right Ctrl
  [98, 0xb5], // keypad /
  [99, 0xb7], // SysRq / Print
  [100, 0xb8], // right Alt
  [102, 0xc7], // Home
  [103, 0xc8], // Up
  [104, 0xc9], // Page Up
  [105, 0xcb], // Left
  [106, 0xcd], // Right
  [107, 0xcf], // End
  [108, 0xd0], // Down
  [109, 0xd1], // Page Down
  [110, 0xd2], // Insert
  [111, 0xd3], // Delete
  [119, 0xc6], // Pause
  [125, 0xdb], // left Super
  [126, 0xdc], // right Super
  [127, 0xdd], // Menu
]);

/** The qnum of a GTK hardware keycode, or undefined for a key the guest's PC keyboard does not have. */
export function qnumOfKeycode(keycode: number): number | undefined {
  const evdev = keycode - EVDEV_OFFSET;
  if (evdev >= 1 && evdev <= LAST_IDENTICAL_EVDEV) return evdev;
  return EXTENDED.get(evdev);
}
