// The event type names are the server's own list (a pure file with no imports), so the stream
// listens for every type the server sends.
export { EVENT_TYPE_NAMES } from '../../../dashboard-api/src/platform/events/event-types.ts';
