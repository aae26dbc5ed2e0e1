#!/usr/bin/env node
import { keepYoungGenerationSmall } from "../dist/session/young-generation.js";

// Before the daemon's modules are even parsed (young-generation.ts says why): they are imported only after it.
keepYoungGenerationSmall();
const { runMain } = await import("../dist/shared/run-main.js");
const { main } = await import("../dist/session/main.js");

runMain("clan-sessiond", main);
