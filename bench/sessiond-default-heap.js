// clan-sessiond started as bin/clan-sessiond.js started it before src/session/young-generation.ts: with Node's
// default young generation. session-switch and session-memory run it side by side with the shipped launcher.
import { runMain } from "../dist/shared/run-main.js";
import { main } from "../dist/session/main.js";

runMain("clan-sessiond", main);
