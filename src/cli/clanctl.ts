import { runMain } from "../shared/run-main.js";
import { main } from "./main.js";

// clanctl's entry point, which `npm run build` bundles (with its lazily loaded command modules as chunks) into
// dist/clanctl-bundle/: one file to load instead of dozens is much of what keeps a key binding fast.
runMain("clanctl", main);
