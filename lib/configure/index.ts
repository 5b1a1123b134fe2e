export { CONFIGURE_TASKS, isConfigureTask, type ConfigureTask, type TaskProgress, type TaskOptions } from './types';
export { runTask } from './run-task';
export { commission, type CommissionParams, type CommissionResult, type CommissionStep, type CommissionError, type UserLevelName } from './commission';
export { syncTime, type SyncTimeParams, type SyncTimeResult } from './sync-time';
export { backup, restore, type BackupParams, type BackupResult, type AppConfigBackup, type RestoreParams, type RestoreResult } from './backup';
export { inventory, serviceName, type InventoryResult, type InventoryService } from './inventory';
export { durationMs } from './util';
export { FleetDevices, FLEET_LIMIT } from './fleet';
