import type { NodeStatus } from 'node-red';
import type { TaskProgress } from '../../lib/configure';
import type { SessionChange } from '../../lib/device/types';
import { formatBytes } from '../../lib/util/format';
import type { Texts } from '../shared/i18n';

// Texts stay short so they fit under a node; colours as everywhere (DESIGN.md): blue = work in progress,
// yellow = the device is away for a while, green = done / connected.

/** A task step: its short text, with a ring while a transfer has no percentage yet. */
export function progressStatus(p: TaskProgress): NodeStatus {
  return { fill: 'blue', shape: p.percent === undefined ? 'ring' : 'dot', text: p.text };
}

/** What a finished task reports under the node. */
export function taskDoneStatus(t: Texts, task: string, result: unknown): NodeStatus {
  const r = (result ?? {}) as { bytes?: number; state?: string; offsetAfterMs?: number };
  switch (task) {
    case 'commission':
      return { fill: 'green', shape: 'dot', text: t(`onvifq-configure.status.${r.state === 'Operational' ? 'commissioned' : 'configured'}`) };
    case 'syncTime':
      return { fill: 'green', shape: 'dot', text: typeof r.offsetAfterMs === 'number' ? t('onvifq-configure.status.clockOffset', { offset: formatMs(r.offsetAfterMs) }) : t('onvifq-configure.status.clockSet') };
    case 'backup':
      return { fill: 'green', shape: 'dot', text: t('onvifq-configure.status.backup', { size: formatBytes(r.bytes ?? 0) }) };
    case 'restore':
      return { fill: 'green', shape: 'dot', text: t('onvifq-configure.status.restored') };
    case 'inventory':
      return { fill: 'green', shape: 'dot', text: t('onvifq-configure.status.inventoryRead') };
    default:
      return { fill: 'green', shape: 'dot', text: t('onvifq-configure.status.done') };
  }
}

/** The status for something the session did on its own; undefined when it needs none. */
export function changeStatus(t: Texts, change: SessionChange): NodeStatus | undefined {
  switch (change.kind) {
    case 'restarting':
      return { fill: 'yellow', shape: 'ring', text: t('onvifq-configure.status.rebooting') };
    case 'reconnected':
      return { fill: 'green', shape: 'dot', text: t('onvifq-configure.status.reconnected') };
    case 'moved':
      return { fill: 'yellow', shape: 'dot', text: t('onvifq-configure.status.deviceMoved') };
    default:
      return undefined;
  }
}

function formatMs(ms: number): string {
  const a = Math.abs(ms);
  return a < 1000 ? `${Math.round(a)} ms` : `${(a / 1000).toFixed(1)} s`;
}

