/** Shared shapes of the configure tasks. */

/** One step of a task, for a node status: `text` is short. */
export interface TaskProgress {
  task: string;
  step: string;
  text: string;
  percent?: number;
}

export interface TaskOptions {
  onProgress?(p: TaskProgress): void;
  signal?: AbortSignal;
}

export const CONFIGURE_TASKS = ['commission', 'syncTime', 'backup', 'restore', 'inventory', 'enableHttps', 'renewCertificate', 'certificateReport'] as const;
export type ConfigureTask = (typeof CONFIGURE_TASKS)[number];

export function isConfigureTask(name: unknown): name is ConfigureTask {
  return typeof name === 'string' && (CONFIGURE_TASKS as readonly string[]).includes(name);
}
