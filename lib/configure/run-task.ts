import { OnvifError } from '../errors';
import type { OnvifDevice } from '../device/onvif-device';
import { backup, restore, type BackupParams, type RestoreParams } from './backup';
import { commission, type CommissionParams } from './commission';
import { inventory } from './inventory';
import { syncTime, type SyncTimeParams } from './sync-time';
import { certificateReport, enableHttps, renewCertificate, type CertificateReportParams, type EnableHttpsParams, type RenewCertificateParams } from '../tls/tasks';
import { CONFIGURE_TASKS, isConfigureTask, type ConfigureTask, type TaskOptions } from './types';

/** Run a task by name with loose parameters (msg.payload); each task checks its own. */
export async function runTask(device: OnvifDevice, task: ConfigureTask, params: Record<string, unknown> = {}, options: TaskOptions = {}): Promise<unknown> {
  if (!isConfigureTask(task)) {
    throw new OnvifError('invalid-input', `Unknown task ${JSON.stringify(task)}; the tasks are ${CONFIGURE_TASKS.join(', ')}.`);
  }
  const p = (params && typeof params === 'object' ? params : {}) as Record<string, unknown>;
  switch (task) {
    case 'commission':
      return commission(device, p as unknown as CommissionParams, options);
    case 'syncTime':
      return syncTime(device, p as SyncTimeParams, options);
    case 'backup':
      return backup(device, p as BackupParams, options);
    case 'restore':
      return restore(device, p as RestoreParams, options);
    case 'inventory':
      return inventory(device, p, options);
    case 'enableHttps':
      return enableHttps(device, p as EnableHttpsParams, options);
    case 'renewCertificate':
      return renewCertificate(device, p as RenewCertificateParams, options);
    case 'certificateReport':
      return certificateReport(device, p as CertificateReportParams, options);
  }
}
