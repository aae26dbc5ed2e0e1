import { execa } from "execa";

// Reading what the window manager actually drew: a screenshot (grim on sway, import on X11) and a count of
// pixels of one colour in a region, with ImageMagick. Decorations such as title_format are not reported by
// GET_TREE, so pixels are the proof that they are on screen.

export async function swayScreenshot(waylandDisplay: string, file: string): Promise<string> {
  await execa("grim", [file], { env: { WAYLAND_DISPLAY: waylandDisplay } });
  return file;
}

export async function x11Screenshot(display: string, file: string): Promise<string> {
  await execa("import", ["-window", "root", file], { env: { DISPLAY: display } });
  return file;
}

/**
 * Pixels of `colour` ("#rrggbb") in `region`. `tolerance` allows that much difference per channel: GNOME Shell
 * draws a CSS colour one step off in some channels.
 */
export async function countPixels(
  file: string,
  region: { x: number; y: number; width: number; height: number },
  colour: string,
  tolerance = 0,
): Promise<number> {
  const { stdout } = await execa("convert", [file, "-crop", `${region.width}x${region.height}+${region.x}+${region.y}`, "txt:-"]);
  const wanted = channels(colour.replace("#", ""));
  return stdout.split("\n").filter((line) => {
    const hex = / #([0-9A-Fa-f]{6})/.exec(line)?.[1];
    return hex !== undefined && channels(hex).every((value, index) => Math.abs(value - wanted[index]!) <= tolerance);
  }).length;
}

function channels(hex: string): number[] {
  return [0, 2, 4].map((offset) => parseInt(hex.slice(offset, offset + 2), 16));
}
