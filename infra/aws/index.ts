/**
 * Production on AWS: `AwsServer` composes the per-concept components below. The program loads
 * this module only for runtime aws (importing @pulumi/aws costs seconds).
 */
export { AwsServer, type AwsServerArgs } from "./server";
export { AwsNetwork, type AwsNetworkArgs } from "./network";
export { AwsHost, type AwsHostArgs } from "./host";
export { DataVolume, type DataVolumeArgs } from "./dataVolume";
export { Monitoring, type MonitoringArgs } from "./monitoring";
export { Backups, type BackupsArgs } from "./backups";
export { AlbTls, type AlbTlsArgs } from "./albTls";
