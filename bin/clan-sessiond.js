#!/usr/bin/env node
import { runMain } from "../dist/shared/run-main.js";
import { main } from "../dist/session/main.js";

runMain("clan-sessiond", main);
