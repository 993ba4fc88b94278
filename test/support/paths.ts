import * as path from "node:path";

export const PROJECT_ROOT_FOR_TESTS = path.resolve(__dirname, "..", "..");
