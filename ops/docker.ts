/** The one Docker Engine client (infra/lib/dockerEngine.ts), for the operator commands and the e2e suite. */
export { docker } from "../infra/lib/dockerEngine";
