import { hostSpec } from "../../infra/aws/hostSpec";
import type { HostSpec } from "../../infra/aws/render/cloudInit";
import { prodConfig } from "./awsStack";

export const VOLUME_ID = "vol-0123456789abcdef0";

const ALB = {
    subnets: [
        { id: "subnet-0a1b2c3d4e5f60718", az: "eu-west-1a" },
        { id: "subnet-0fed9876cba543210", az: "eu-west-1b" },
    ],
    certificate_arn: "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
};

/** Host specs as AwsServer renders them, for prod (acme) and the alb and 2.x-command variants. */
export const specs: Record<string, HostSpec> = {
    acme: hostSpec(prodConfig(), VOLUME_ID),
    alb: hostSpec(prodConfig({ tls: { mode: "alb" }, aws: { alb: ALB } }), VOLUME_ID),
    spacetime2x: hostSpec(
        prodConfig({
            aws: {
                server_binary: {
                    url: "https://github.com/clockworklabs/SpacetimeDB/releases/download/v1.2.0/spacetime-x86_64-unknown-linux-gnu.tar.gz",
                    sha256: "b".repeat(64),
                    command: "spacetime",
                },
            },
        }),
        VOLUME_ID,
    ),
};

export const ALB_SECTION = ALB;
