import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { ClanError } from "../shared/errors.js";

// clan-viewer's native parts (src/viewer/native/, built into dist/viewer/ by `npm run build`), each loaded once.

const loaded = new Map<string, unknown>();

/** The native part `name` (dist/viewer/NAME.node, the same path from src/viewer and dist/viewer); `what` names it in errors. */
export function nativePart<Module>(name: string, what: string): Module {
  const known = loaded.get(name);
  if (known !== undefined) return known as Module;
  const path = fileURLToPath(new URL(`../../dist/viewer/${name}.node`, import.meta.url));
  try {
    const module = createRequire(import.meta.url)(path) as Module;
    loaded.set(name, module);
    return module;
  } catch (error) {
    throw new ClanError("NotFound", `clan-viewer's ${what} ${path} did not load (${error instanceof Error ? error.message.split("\n")[0] : String(error)}); run npm run build`);
  }
}
