/** The operations `onvifq-configure` offers (read-only for now) and their default parameters. */
export const CONFIGURE_OPERATIONS = [
  'GetDeviceInformation',
  'GetSystemDateAndTime',
  'GetServices',
  'GetCapabilities',
  'GetScopes',
] as const;

export type ConfigureOperation = (typeof CONFIGURE_OPERATIONS)[number];

/** The node's operation setting that means "take it from msg.operation, then msg.topic". */
export const OPERATION_FROM_MSG = 'msg';

/** Parameters sent when msg.payload does not set them. GetServices: capabilities are what most flows want. */
export const DEFAULT_PARAMS: Partial<Record<ConfigureOperation, Record<string, unknown>>> = {
  GetServices: { IncludeCapability: true },
  GetCapabilities: { Category: 'All' },
};

export function isConfigureOperation(name: unknown): name is ConfigureOperation {
  return typeof name === 'string' && (CONFIGURE_OPERATIONS as readonly string[]).includes(name);
}
