import * as path from "node:path";
import { runProgram } from "./run";

/** Entry point for `pulumi up` with a Node language host; scripts/stack.ts runs the same program inline. */
export = runProgram(path.resolve(__dirname, ".."));
