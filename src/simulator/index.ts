export { startSimulator } from './start-simulator.js';
export { parseFaultsPatch } from './faults-validation.js';
export { DEFAULT_FAULTS } from './simulator-options.js';
export type {
  RunningSimulator,
  SimApiKey,
  SimAuthenticator,
  SimTenant,
  SimulatorFaults,
  SimulatorOptions,
  SimulatorStats,
} from './simulator-options.js';
