// The operator's public surface: start()/stop() and the pure decisions (the simulation uses them).
export { start, type Operator, type StartOptions } from './main.js';
export { loadConfig, configHelp, type Config } from './config.js';
export {
  desiredReplicas,
  Reason,
  DEFAULT_SPEC,
  type DecisionInputs,
  type Decision,
  type Signal,
} from './decision.js';
export { preScaleFloor, type Sale } from './prescale.js';
export { planRemediation } from './remediation.js';
export { EventReason } from './controller.js';
export { GROUP, VERSION, PLURAL, KIND, DEFAULT_QUERY } from './spec.js';
