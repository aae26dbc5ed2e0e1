// Parsing what the user types into a keybinding row: "<Super><Shift>r, <Ctrl><Alt>F5" → a GSettings string
// list. Whether one accelerator is valid is asked of GTK (passed in), so the rules stay GTK's.

export function parseAcceleratorList(text: string, isValid: (accelerator: string) => boolean): { accelerators: string[] } | { error: string } {
  const accelerators = text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  const invalid = accelerators.find((accelerator) => !isValid(accelerator));
  if (invalid !== undefined) return { error: `${JSON.stringify(invalid)} is not a keyboard shortcut GTK understands` };
  return { accelerators };
}
