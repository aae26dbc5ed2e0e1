// clan-sessiond started as bin/clan-sessiond.js started it before src/session/heap-size.ts: with Node's
// default heap sizing. session-switch and session-memory run it side by side with the shipped launcher.
import { runMain } from "../dist/shared/run-main.js";
import { main } from "../dist/session/main.js";

runMain("clan-sessiond", main);
