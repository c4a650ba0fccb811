/**
 * Tablestore's error answers: HTTP status plus a protobuf `Error { code, message }` body
 * (tablestore.proto). Codes, statuses and messages follow Tablestore's "Error codes" reference
 * (https://www.alibabacloud.com/help/en/tablestore/developer-reference/error-codes).
 */

/** An error the fake answers with, exactly as Tablestore would. */
export class OtsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The errors the fake raises, by name. */
export const otsErrors = {
  conditionFailed: () => new OtsError(403, 'OTSConditionCheckFail', 'Condition check failed.'),
  tableMissing: () => new OtsError(404, 'OTSObjectNotExist', 'Requested table does not exist.'),
  tableExists: () => new OtsError(409, 'OTSObjectAlreadyExist', 'Requested table already exists.'),
  invalid: (message: string) => new OtsError(400, 'OTSParameterInvalid', message),
  authFailed: (message: string) => new OtsError(403, 'OTSAuthFailed', message),
  serverBusy: () => new OtsError(503, 'OTSServerBusy', 'Server is busy.'),
  quotaExhausted: () => new OtsError(403, 'OTSQuotaExhausted', 'Too frequent table operations.'),
  tableNotReady: () => new OtsError(404, 'OTSTableNotReady', 'The table is not ready.'),
  bodyTooLarge: () =>
    new OtsError(413, 'OTSRequestBodyTooLarge', 'The size of POST data is too large.'),
  methodNotAllowed: () =>
    new OtsError(405, 'OTSMethodNotAllowed', 'Only POST method for requests is supported.'),
};

/** The throttling codes a fault can inject, with their real statuses. */
export const THROTTLE_CODES = {
  OTSServerBusy: otsErrors.serverBusy,
  OTSQuotaExhausted: otsErrors.quotaExhausted,
  OTSTableNotReady: otsErrors.tableNotReady,
} as const;

export type ThrottleCode = keyof typeof THROTTLE_CODES;
