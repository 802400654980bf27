// Types of pushgate-client (index.js).

export type Urgency = "very-low" | "low" | "normal" | "high";

export interface MessageOptions {
  data?: Record<string, string>;
  url?: string;
  icon?: string;
  image?: string;
  ttl?: number;
  urgency?: Urgency;
  collapse_key?: string;
  /** Admin tokens: the app to send as. */
  appId?: string;
}

export interface Notification extends Omit<MessageOptions, "appId"> {
  user_id: string;
  title: string;
  body: string;
}

export interface ApprovalAction {
  id: string;
  label: string;
  denies?: boolean;
}

export interface ApprovalOptions {
  timeout_seconds?: number;
  actions?: ApprovalAction[];
  data?: Record<string, string>;
  url?: string;
  appId?: string;
}

export interface ApprovalCreated {
  approval_id: string;
  status: "pending" | "denied";
  reason: string | null;
  expires_at: string;
}

export interface Approval {
  approval_id: string;
  status: "pending" | "approved" | "denied" | "expired";
  approved: boolean;
  action: string | null;
  device_id: string | null;
  decided_at: string | null;
  expires_at: string;
  reason: string | null;
}

export interface BroadcastStatus {
  broadcast_id: string;
  app_id: string;
  status: "running" | "finished" | "cancelled" | "quota_exhausted";
  total: number;
  reached: number;
  by_outcome: { delivered: number; failed: number; invalid_token: number; expired: number };
  finished: boolean;
  created_at: string;
  finished_at: string | null;
  reason: string | null;
}

export interface Retry {
  attempts: number;
  deadlineMs: number;
  timeoutMs: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: Readonly<Retry>;

export interface TokenSource {
  token(fetchImpl: typeof fetch): Promise<string>;
  invalidate(): void;
}

export class ClientCredentials implements TokenSource {
  constructor(
    tokenUrl: string,
    clientId: string,
    clientSecret: string,
    options?: {
      scope?: string | null;
      audience?: string;
      authMethod?: "client_secret_basic" | "client_secret_post";
      now?: () => number;
    },
  );
  token(fetchImpl: typeof fetch): Promise<string>;
  invalidate(): void;
}

export interface PushgateOptions {
  token: string | (() => string | Promise<string>) | TokenSource;
  appId?: string | null;
  retry?: Partial<Retry>;
  fetch?: typeof fetch;
}

export class Pushgate {
  constructor(baseUrl: string, options: PushgateOptions);
  readonly baseUrl: string;
  send(userId: string, title: string, body: string, options?: MessageOptions): Promise<string>;
  sendBulk(userIds: Iterable<string>, title: string, body: string, options?: MessageOptions): Promise<string[]>;
  sendBatch(notifications: Iterable<Notification>, options?: { appId?: string }): Promise<string[]>;
  broadcast(title: string, body: string, options?: MessageOptions & { platforms?: string[] }): Promise<string>;
  broadcastStatus(broadcastId: string): Promise<BroadcastStatus>;
  cancelBroadcast(broadcastId: string): Promise<BroadcastStatus>;
  notificationStatus(notificationId: string): Promise<Record<string, unknown>>;
  devices(appId: string, options?: { pageSize?: number }): AsyncGenerator<Record<string, unknown>, void, undefined>;
  readonly approvals: {
    create(userId: string, title: string, body: string, options?: ApprovalOptions): Promise<ApprovalCreated>;
    get(approvalId: string): Promise<Approval>;
    /** Resolves once decided or expired, or with the pending state when timeoutMs passed. */
    wait(approvalId: string, options?: { timeoutMs?: number }): Promise<Approval>;
  };
  readonly config: {
    get(appId: string): Promise<Record<string, unknown>>;
    update(appId: string, changes: Record<string, unknown>): Promise<Record<string, unknown>>;
  };
}

export interface Receipt {
  type: "delivery" | "approval" | "interaction";
  [field: string]: unknown;
}

export function verifyReceipt(
  body: string | Uint8Array,
  headers: Headers | Record<string, string>,
  secret: string,
  options?: { now?: number },
): Receipt;

export class PushgateError extends Error {}
export class ApiError extends PushgateError {
  readonly status: number;
  /** The API's error code (docs/api.md), e.g. "quota_exceeded". */
  readonly code: string;
  readonly apiMessage: string;
  /** Seconds, from Retry-After. */
  readonly retryAfter: number | null;
}
export class BadRequestError extends ApiError {}
export class AuthenticationError extends ApiError {}
export class PermissionDeniedError extends ApiError {}
export class NotFoundError extends ApiError {}
export class ConflictError extends ApiError {}
export class GoneError extends ApiError {}
export class PayloadTooLargeError extends ApiError {}
export class RateLimitedError extends ApiError {}
export class ServiceUnavailableError extends ApiError {}
export class ConnectionFailedError extends PushgateError {}
export class TokenError extends PushgateError {}
export class InvalidReceiptError extends PushgateError {}
