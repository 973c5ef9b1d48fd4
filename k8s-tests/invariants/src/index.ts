// @flashsale/invariants: the sale's invariants I1–I6 judged from what clients were told and what
// the stores hold, and the sale driver that records what they were told.
export {
  answerKey,
  classify,
  newSaleHistory,
  recordAnswer,
  recordError,
  recordFinal,
  tally,
  userOf,
  type FinalStatus,
  type Outcome,
  type SaleHistory,
  type Told,
  type UserHistory,
} from './history.js';
export {
  fromAudit,
  openStores,
  readSnapshot,
  type HolderRow,
  type RedisReader,
  type Snapshot,
  type SqlReader,
  type Stores,
} from './snapshot.js';
export { EXAMPLES, combine, judge, type Check, type CheckId, type Verdict } from './verdict.js';
export { Client, type Answer } from './client.js';
export {
  auditWhenDrained,
  createEvent,
  crowd,
  runCrowd,
  settle,
  type CrowdResult,
} from './driver.js';
export { verifySale } from './verify.js';
