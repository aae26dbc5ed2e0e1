import { describe, expect, it } from "vitest";
import type { Gi } from "../../src/viewer/gi.js";
import { chooseRenderer, glDriversOf, isSoftwareGl } from "../../src/viewer/renderer-choice.js";

// Which GL the viewer's process loaded decides its renderer: cairo on Mesa's software rasteriser, GTK's own choice
// on a GPU's driver, and never over the user's GSK_RENDERER. (The e2e tests run the real probe under Xvfb.)

const line = (path: string) => `7f1c2a000000-7f1c2a400000 r-xp 00000000 fe:01 1234567                    ${path}`;
const MESA_SOFTWARE = "/usr/lib/x86_64-linux-gnu/dri/swrast_dri.so";

describe("the viewer's renderer choice", () => {
  it("finds the GL drivers among a process's mappings, each once", () => {
    const maps = [
      line("/usr/lib/x86_64-linux-gnu/libgtk-4.so.1.800.3"),
      line(MESA_SOFTWARE),
      line(MESA_SOFTWARE),
      line("/usr/lib/x86_64-linux-gnu/libGLX_mesa.so.0.0.0"),
      "7ffd4c1f1000-7ffd4c212000 rw-p 00000000 00:00 0                          [stack]",
      "7f1c2a800000-7f1c2a900000 rw-p 00000000 00:00 0 ",
      line("/usr/lib/x86_64-linux-gnu/libEGL_nvidia.so.535.183.01"),
    ].join("\n");
    expect(glDriversOf(maps)).toEqual([MESA_SOFTWARE, "/usr/lib/x86_64-linux-gnu/libEGL_nvidia.so.535.183.01"]);
  });

  it("calls GL software only when every driver loaded is llvmpipe's or softpipe's", () => {
    expect(isSoftwareGl([MESA_SOFTWARE])).toBe(true);
    expect(isSoftwareGl(["/usr/lib/x86_64-linux-gnu/dri/kms_swrast_dri.so"])).toBe(true);
    expect(isSoftwareGl(["/usr/lib/x86_64-linux-gnu/dri/iris_dri.so"])).toBe(false);
    expect(isSoftwareGl(["/usr/lib/x86_64-linux-gnu/dri/radeonsi_dri.so", MESA_SOFTWARE])).toBe(false);
    expect(isSoftwareGl(["/usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0"])).toBe(false);
    // Nothing recognised: leave the choice to GTK.
    expect(isSoftwareGl([])).toBe(false);
  });

  it("leaves a user's GSK_RENDERER alone, without probing GL", () => {
    const env: NodeJS.ProcessEnv = { GSK_RENDERER: "gl" };
    // A probe would touch gi and throw: the user's choice returns first.
    expect(chooseRenderer({} as Gi, env)).toEqual({ renderer: "gtk's choice", reason: "GSK_RENDERER=gl is the user's" });
    expect(env.GSK_RENDERER).toBe("gl");
  });
});
