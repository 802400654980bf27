// pushgate's client for Node backends (Node 20+, no dependencies: the built-in fetch and
// crypto). The same surface as the Python client (clients/python): send, sendBulk,
// sendBatch, broadcast (with broadcastStatus, cancelBroadcast), notificationStatus, approvals.create/get/wait, devices() (an async iterator over
// pages), config.get/update, and verifyReceipt. Each call carries one Idempotency-Key that
// its retries reuse; 429 (after Retry-After), 502-504, lost connections and 409
// request_in_progress are retried with full-jitter backoff within a total deadline.

import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";

const RETRIED_STATUSES = new Set([429, 502, 503, 504]);
const MAX_WAIT_SECONDS = 25; // GET /push/approvals/{id}?wait= (API Gateway's 30 s limit)
const REFRESH_MARGIN_MS = 60_000;
const RECEIPT_TOLERANCE_SECONDS = 300;

/** Anything the client could not do. */
export class PushgateError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** pushgate answered with an error: `status`, `code` (the API's error code), `message`. */
export class ApiError extends PushgateError {
  constructor(status, code, message, retryAfter = null) {
    super(`${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
    this.apiMessage = message;
    this.retryAfter = retryAfter;
  }
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
/** No answer at all: the connection failed or timed out (after the retries). */
export class ConnectionFailedError extends PushgateError {}
/** The OAuth token endpoint refused the client's credentials or failed. */
export class TokenError extends PushgateError {}
/** A receipt whose signature, id or timestamp does not verify. */
export class InvalidReceiptError extends PushgateError {}

const BY_STATUS = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  410: GoneError,
  413: PayloadTooLargeError,
  422: BadRequestError,
  429: RateLimitedError,
};

function retryAfter(response) {
  const seconds = Number.parseFloat(response.headers.get("retry-after") ?? "");
  return Number.isFinite(seconds) ? Math.max(0, seconds) : null;
}

async function errorFrom(response) {
  let code = "http_error";
  let message = response.statusText || "error";
  try {
    const detail = (await response.json()).error;
    code = String(detail.code);
    message = String(detail.message);
  } catch {
    // not pushgate's error shape: keep the HTTP status
  }
  const Kind = BY_STATUS[response.status] ?? (response.status >= 500 ? ServiceUnavailableError : ApiError);
  return new Kind(response.status, code, message, retryAfter(response));
}

/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4): the client authenticates with HTTP Basic
 * (§2.3.1; `authMethod: "client_secret_post"` puts the credentials in the form), and the
 * token is kept until 60 s before its `expires_in` runs out (5 minutes without one).
 */
export class ClientCredentials {
  constructor(tokenUrl, clientId, clientSecret, options = {}) {
    const { scope = "push:send", audience, authMethod = "client_secret_basic", now = Date.now } = options;
    if (!["client_secret_basic", "client_secret_post"].includes(authMethod)) {
      throw new TypeError("authMethod is client_secret_basic or client_secret_post");
    }
    Object.assign(this, { tokenUrl, clientId, scope, audience, authMethod });
    this._secret = clientSecret;
    this._now = now;
    this._cached = null;
  }

  async token(fetchImpl) {
    if (this._cached && this._now() < this._cached.until) {
      return this._cached.token;
    }
    const form = new URLSearchParams({ grant_type: "client_credentials" });
    if (this.scope) form.set("scope", this.scope);
    if (this.audience) form.set("audience", this.audience);
    const headers = { accept: "application/json", "content-type": "application/x-www-form-urlencoded" };
    if (this.authMethod === "client_secret_post") {
      form.set("client_id", this.clientId);
      form.set("client_secret", this._secret);
    } else {
      const pair = `${formEncode(this.clientId)}:${formEncode(this._secret)}`;
      headers.authorization = `Basic ${Buffer.from(pair).toString("base64")}`;
    }
    let response;
    try {
      response = await fetchImpl(this.tokenUrl, { method: "POST", headers, body: form.toString() });
    } catch (cause) {
      throw new ConnectionFailedError(`the token endpoint: ${cause}`, { cause });
    }
    const body = await response.json().catch(() => ({}));
    if (response.status !== 200 || typeof body.access_token !== "string") {
      const reason = body.error_description || body.error || response.statusText;
      throw new TokenError(`the token endpoint answered ${response.status}: ${reason}`);
    }
    const lifetimeMs = (typeof body.expires_in === "number" ? body.expires_in : 300) * 1000;
    this._cached = { token: body.access_token, until: this._now() + Math.max(0, lifetimeMs - REFRESH_MARGIN_MS) };
    return body.access_token;
  }

  invalidate() {
    this._cached = null;
  }
}

function formEncode(value) {
  return encodeURIComponent(value).replace(/%20/g, "+");
}

function asAuth(token) {
  if (typeof token === "string") return { token: async () => token, invalidate() {} };
  if (token && typeof token.token === "function") return token;
  if (typeof token === "function") {
    return {
      async token() {
        const value = await token();
        if (typeof value !== "string" || !value) throw new TokenError("the token function returned no token");
        return value;
      },
      invalidate() {},
    };
  }
  throw new TypeError("token is a string, a function returning one, or ClientCredentials");
}

/** The default retry policy: 5 tries within 30 s, each at most 10 s, backoff 0.5 s..8 s. */
export const DEFAULT_RETRY = Object.freeze({ attempts: 5, deadlineMs: 30_000, timeoutMs: 10_000, backoffMs: 500, maxBackoffMs: 8_000 });

export class Pushgate {
  /**
   * @param {string} baseUrl pushgate's API
   * @param {object} options `token` (string, function, or ClientCredentials), `appId` (for
   *   admin tokens: the app to act as), `retry` (see DEFAULT_RETRY), `fetch` (for tests)
   */
  constructor(baseUrl, { token, appId = null, retry = {}, fetch: fetchImpl = globalThis.fetch } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.appId = appId;
    this.retry = { ...DEFAULT_RETRY, ...retry };
    this._auth = asAuth(token);
    this._fetch = fetchImpl;
    this.approvals = {
      create: (userId, title, body, options = {}) => {
        const { appId: app, ...fields } = options;
        return this._request("POST", "/push/approvals", { json: { user_id: userId, title, body, ...fields }, query: this._as(app), idempotent: true });
      },
      get: (approvalId) => this._approval(approvalId, 0),
      wait: (approvalId, { timeoutMs = 900_000 } = {}) => this._waitForApproval(approvalId, timeoutMs),
    };
    this.config = {
      get: (app) => this._request("GET", `/push/config/${encodeURIComponent(app)}`),
      update: (app, changes) => this._request("PATCH", `/push/config/${encodeURIComponent(app)}`, { json: changes }),
    };
  }

  /** Send to every device of a user; resolves to the notification id. */
  async send(userId, title, body, options = {}) {
    const { appId, ...fields } = options;
    const answer = await this._request("POST", "/push/send", { json: { user_id: userId, title, body, ...fields }, query: this._as(appId), idempotent: true });
    return answer.notification_id;
  }

  /** One notification to many users: one id per user, in order. */
  async sendBulk(userIds, title, body, options = {}) {
    const { appId, ...fields } = options;
    const answer = await this._request("POST", "/push/send/bulk", { json: { user_ids: [...userIds], title, body, ...fields }, query: this._as(appId), idempotent: true });
    return answer.notification_ids;
  }

  /** Different notifications (each `{user_id, title, body, ...}`) in one request. */
  async sendBatch(notifications, { appId } = {}) {
    const answer = await this._request("POST", "/push/send/batch", { json: { notifications: [...notifications] }, query: this._as(appId), idempotent: true });
    return answer.notification_ids;
  }

  /** One notification to every device of the app (or of `platforms`); resolves to its id. */
  async broadcast(title, body, options = {}) {
    const { appId, ...fields } = options;
    const answer = await this._request("POST", "/push/send/broadcast", { json: { title, body, ...fields }, query: this._as(appId), idempotent: true });
    return answer.broadcast_id;
  }

  /** `{status, total, reached, by_outcome, finished, ...}`. */
  broadcastStatus(broadcastId) {
    return this._request("GET", `/push/broadcasts/${encodeURIComponent(broadcastId)}`);
  }

  cancelBroadcast(broadcastId) {
    return this._request("DELETE", `/push/broadcasts/${encodeURIComponent(broadcastId)}`);
  }

  notificationStatus(notificationId) {
    return this._request("GET", `/push/notifications/${encodeURIComponent(notificationId)}`);
  }

  /** Every device of the app, fetched a page at a time as you iterate. */
  async *devices(app, { pageSize = 100 } = {}) {
    let cursor = null;
    do {
      const page = await this._request("GET", `/push/devices/${encodeURIComponent(app)}`, { query: { limit: pageSize, cursor } });
      yield* page.devices;
      cursor = page.next_cursor ?? null;
    } while (cursor !== null);
  }

  _as(appId) {
    return { app_id: appId ?? this.appId };
  }

  _approval(approvalId, wait) {
    const query = wait ? { wait: Math.floor(wait) } : {};
    return this._request("GET", `/push/approvals/${encodeURIComponent(approvalId)}`, { query, readTimeoutMs: wait * 1000 + 10_000 });
  }

  async _waitForApproval(approvalId, timeoutMs) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const wait = Math.min(MAX_WAIT_SECONDS, Math.max(0, (until - Date.now()) / 1000));
      const state = await this._approval(approvalId, wait);
      if (state.status !== "pending" || Date.now() >= until || wait < 1) return state;
    }
  }

  /** The one request loop: token, retries under one deadline, one Idempotency-Key. */
  async _request(method, path, { json, query, idempotent = method !== "POST", readTimeoutMs } = {}) {
    const headers = { accept: "application/json", "user-agent": "pushgate-client-node" };
    if (json !== undefined) headers["content-type"] = "application/json";
    if (method === "POST" && idempotent) headers["idempotency-key"] = randomUUID().replaceAll("-", "");
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== null && value !== undefined) url.searchParams.set(name, String(value));
    }
    const deadline = Date.now() + Math.max(this.retry.deadlineMs, readTimeoutMs ?? 0);
    let attempt = 0;
    let refreshed = false;
    for (;;) {
      const token = await this._auth.token(this._fetch);
      const timeout = Math.max(1, Math.min(readTimeoutMs ?? this.retry.timeoutMs, deadline - Date.now()));
      let failure;
      let wait;
      try {
        const response = await this._fetch(url, {
          method,
          headers: { ...headers, authorization: `Bearer ${token}` },
          body: json === undefined ? undefined : JSON.stringify(json),
          signal: AbortSignal.timeout(timeout),
        });
        if (response.status < 400) {
          const text = await response.text();
          return text ? JSON.parse(text) : null;
        }
        failure = await errorFrom(response);
        if (response.status === 401 && !refreshed) {
          refreshed = true; // a token that expired early or was rotated: once more
          this._auth.invalidate();
          continue;
        }
        if (!worthRetrying(failure, idempotent)) throw failure;
        wait = failure.retryAfter !== null ? failure.retryAfter * 1000 : this._backoff(attempt);
      } catch (error) {
        if (error instanceof PushgateError) throw error;
        failure = new ConnectionFailedError(`${method} ${path}: ${error}`, { cause: error });
        if (!idempotent) throw failure;
        wait = this._backoff(attempt);
      }
      attempt += 1;
      if (attempt >= this.retry.attempts || Date.now() + wait >= deadline) throw failure;
      await sleep(wait);
    }
  }

  _backoff(attempt) {
    return Math.random() * Math.min(this.retry.maxBackoffMs, this.retry.backoffMs * 2 ** attempt);
  }
}

function worthRetrying(failure, idempotent) {
  if (failure.status === 429) return true; // refused before any work: safe to repeat
  if (failure instanceof ConflictError) return failure.code === "request_in_progress";
  return idempotent && RETRIED_STATUSES.has(failure.status);
}

/**
 * Verifies a receipt as Standard Webhooks specifies (`webhook-id`, `webhook-timestamp`
 * within five minutes, a `v1,` HMAC-SHA256 over "id.timestamp.body" with the key inside
 * your `whsec_` secret; during a rotation either secret verifies) and returns it parsed.
 * Pass the raw body (a string or Buffer) exactly as received, and the request's headers
 * (a plain object or a Headers).
 */
export function verifyReceipt(body, headers, secret, { now = Date.now() / 1000 } = {}) {
  const raw = typeof body === "string" ? Buffer.from(body) : Buffer.from(body);
  const get = (name) => (typeof headers.get === "function" ? headers.get(name) : headers[name] ?? headers[Object.keys(headers).find((k) => k.toLowerCase() === name)]) ?? "";
  const id = get("webhook-id");
  const timestamp = get("webhook-timestamp");
  const signatures = get("webhook-signature");
  if (!id || !/^\d+$/.test(timestamp) || !signatures) {
    throw new InvalidReceiptError("missing webhook-id, webhook-timestamp or webhook-signature");
  }
  if (Math.abs(now - Number(timestamp)) > RECEIPT_TOLERANCE_SECONDS) {
    throw new InvalidReceiptError("the webhook-timestamp is more than five minutes off");
  }
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(raw).digest();
  for (const entry of signatures.split(" ")) {
    const [version, signature] = entry.split(",", 2);
    const given = Buffer.from(signature ?? "", "base64");
    if (version === "v1" && given.length === expected.length && timingSafeEqual(given, expected)) {
      try {
        return JSON.parse(raw.toString("utf8"));
      } catch (cause) {
        throw new InvalidReceiptError("the signed body is not JSON", { cause });
      }
    }
  }
  throw new InvalidReceiptError("no webhook-signature entry matches");
}
