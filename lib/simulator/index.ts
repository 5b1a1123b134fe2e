export { SimulatedDevice, startSimulators, type SimulatorOptions, type SimulatedRequest, type InjectedFault } from './device';
export type { DeviceState, SimulatedUser, UserLevel } from './state';
export { PROFILE_Q_FACTORY_DEFAULT, PROFILE_Q_OPERATIONAL } from './device-service';
