#!/usr/bin/env node
import { runMain } from "../dist/shared/run-main.js";
import { main } from "../dist/viewer/main.js";

runMain("clan-viewer", main);
