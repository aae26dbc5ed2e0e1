#!/usr/bin/env node
import { runMain } from "../dist/shared/run-main.js";
import { main } from "../dist/vmd/main.js";

runMain("clan-vmd", main);
