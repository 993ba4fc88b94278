import { PolicyPack } from "@pulumi/policy";
import { allPolicies } from "./policies";

/**
 * Pack entry for the engine (`pulumi preview --policy-pack policy`). Constructing a PolicyPack
 * starts the analyzer's gRPC server, so tests import ./policies, never this file.
 * data-volumes-protected reads `protectData` from the pack config (default true, i.e. prod rules);
 * the engine does not pass retainOnDelete to analyzers, so here it checks `protect` only.
 */
new PolicyPack("inner-universe", {
    description:
        "Inner Universe deployment rules: encrypted gp3 volumes, IMDSv2, no SSH, world-open only on 80/443, alarms with actions, protected and snapshot-tagged data, no secrets in user data, scoped IAM (no users, no wildcard actions, source-account conditions), log retention, KMS rotation, hardened ALB listeners.",
    enforcementLevel: "mandatory",
    policies: allPolicies,
});
