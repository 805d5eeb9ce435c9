// "The user is active" (not suspended): one definition for the checks in TypeScript and for the
// statements that filter users in SQL (guards, polls, notifications, enrollment), and the refusal
// a suspended user gets.
import { forbidden } from '../../platform/errors.ts';

export const ACTIVE_USER_STATUS = 'active';

export const isActiveUser = (user: { status: string }): boolean => user.status === ACTIVE_USER_STATUS;

/** The same rule over the users row `alias`. */
export const activeUserSql = (alias: string): string => `${alias}.status = '${ACTIVE_USER_STATUS}'`;

/** 403 account_suspended: what a suspended user's sign-in or request is answered. */
export const accountSuspended = () => forbidden('account_suspended', 'This account is suspended.');
