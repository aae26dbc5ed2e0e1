import { readFileSync } from "node:fs";
import type { Gi } from "./gi.js";

// GTK 4.8 draws with GL wherever a GL context can be made, even when that GL is Mesa's software rasteriser
// (llvmpipe or softpipe: Xvfb, a headless compositor, a machine without a GPU). There every frame's texture upload
// and draw runs on the CPU through Mesa, several times slower than GTK's cairo renderer drawing the same texture
// (docs/benchmarks.md, viewer-display). So before GTK makes its renderer, the viewer realizes a GL context of its
// own and looks at which GL driver that loaded into the process; on software GL it asks GTK for cairo. A user's
// GSK_RENDERER is never overridden.

/** Mesa's drivers that run on the CPU: llvmpipe and softpipe live in these. */
const SOFTWARE_DRIVERS = /\/(swrast|kms_swrast)_dri\.so$/;
/** Any Mesa DRI driver, or a vendor's GL: a GPU's driver is one of these and not a software one. */
const GL_DRIVERS = /(_dri\.so|lib(GLX|EGL)_nvidia\.so[.0-9]*)$/;

export type RendererChoice =
  | { renderer: "cairo"; reason: string }
  | { renderer: "gtk's choice"; reason: string };

/** Chooses the renderer (sets GSK_RENDERER for GTK) and says why; call before any window is realized. */
export function chooseRenderer(gi: Gi, env: NodeJS.ProcessEnv): RendererChoice {
  if (env.GSK_RENDERER) return { renderer: "gtk's choice", reason: `GSK_RENDERER=${env.GSK_RENDERER} is the user's` };
  const probe = probeGl(gi);
  if (probe.error !== undefined) return { renderer: "gtk's choice", reason: `no GL context (${probe.error}): GTK draws with cairo itself` };
  const drivers = glDriversOf(readFileSync("/proc/self/maps", "utf8"));
  if (!isSoftwareGl(drivers)) return { renderer: "gtk's choice", reason: `GL drivers ${drivers.join(", ") || "unnamed"}` };
  env.GSK_RENDERER = "cairo";
  return { renderer: "cairo", reason: `GL is software only (${drivers.join(", ")})` };
}

/** The GL driver files mapped into a process, from its /proc/<pid>/maps. */
export function glDriversOf(maps: string): string[] {
  const paths = new Set<string>();
  for (const line of maps.split("\n")) {
    const path = line.trim().split(/\s+/)[5];
    if (path !== undefined && GL_DRIVERS.test(path)) paths.add(path);
  }
  return [...paths];
}

/** True when every GL driver loaded runs on the CPU (and at least one is loaded). */
export function isSoftwareGl(drivers: string[]): boolean {
  return drivers.length > 0 && drivers.every((path) => SOFTWARE_DRIVERS.test(path));
}

/**
 * Realizes a GL context on the default display, as GTK's GL renderer would; the driver it loads stays loaded. The
 * context stays referenced, so that node-gtk never finalizes it in the middle of GTK's own GL work.
 */
function probeGl(gi: Gi): { error?: string } {
  try {
    const context = gi.Gdk.Display.getDefault().createGlContext();
    context.realize();
    probedContexts.push(context);
    return {};
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
const probedContexts: unknown[] = [];
