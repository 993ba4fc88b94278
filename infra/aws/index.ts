/**
 * Production on AWS: `AwsServer` composes the per-concept components below. The program loads
 * this module only for runtime aws (importing @pulumi/aws costs seconds).
 */

export { AlbTls, type AlbTlsArgs } from "./albTls";
export { Backups, type BackupsArgs } from "./backups";
export { DataVolume, type DataVolumeArgs } from "./dataVolume";
export { AwsHost, type AwsHostArgs } from "./host";
export { Monitoring, type MonitoringArgs } from "./monitoring";
export { AwsNetwork, type AwsNetworkArgs } from "./network";
export { AwsServer, type AwsServerArgs } from "./server";
