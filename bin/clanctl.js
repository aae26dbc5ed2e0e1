#!/usr/bin/env node
import "../dist/clanctl-bundle/clanctl.js";
