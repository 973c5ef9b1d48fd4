// The ids live in domain/ids.ts. This re-export only keeps test/helpers.ts (whose split into
// test/support/ is under way separately) compiling; delete it once nothing imports it.
export { eventTag, isUuid, reservationId, tagOfReservation } from './domain/ids.js';
