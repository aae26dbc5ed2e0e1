#!/usr/bin/env node
import { runMain } from "../dist/shared/run-main.js";
import { main } from "../dist/manager/main.js";

runMain("clan-manager", main);
