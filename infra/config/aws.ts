import { z } from "zod";
import { doc, pattern } from "./fields";

/**
 * The `aws` section (runtime aws). Owned by the production-on-AWS work; the program only
 * passes the parsed value to `infra/aws`.
 */
export const awsSchema = z.strictObject({
    region: doc(pattern(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "an AWS region like eu-west-1"), "AWS region", "eu-west-1"),
});

export type AwsConfig = z.output<typeof awsSchema>;
