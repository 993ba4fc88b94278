import * as path from "node:path";
import { runProgram } from "./run";

/** Entry point for `pulumi up` (package.json `main`, run by the CLI's Node language host): config parsed once, then the stack. */
export = runProgram(path.resolve(__dirname, ".."));
