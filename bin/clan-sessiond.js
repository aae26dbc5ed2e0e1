#!/usr/bin/env node
import { keepHeapSmall } from "../dist/session/heap-size.js";

// Before the daemon's modules are even parsed (heap-size.ts says why): they are imported only after it.
keepHeapSmall();
const { runMain } = await import("../dist/shared/run-main.js");
const { main } = await import("../dist/session/main.js");

runMain("clan-sessiond", main);
