#!/usr/bin/env node
import { runMain } from "../dist/shared/run-main.js";
import { main } from "../dist/cli/main.js";

runMain("clanctl", main);
