#!/usr/bin/env node
// The package's `bin` (npx iu-ops …): the operator CLI of ops/main.ts, loaded through tsx.
require("tsx/cjs");
require("./main.ts")
    .main(process.argv.slice(2))
    .then((code) => process.exit(code));
