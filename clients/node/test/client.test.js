// The Node client against scripted answers: retries with one Idempotency-Key, Retry-After,
// the deadline, the error classes, token sources, paging, long-polling, and receipts
// against the Standard Webhooks specification's own test vector.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ClientCredentials,
  ConflictError,
  ConnectionFailedError,
  InvalidReceiptError,
  NotFoundError,
  Pushgate,
  RateLimitedError,
  ServiceUnavailableError,
  TokenError,
  verifyReceipt,
} from "../index.js";

const API = "https://push.example";
const FAST = { backoffMs: 1, maxBackoffMs: 2 };

/** A fetch that answers in order and records each request. */
function script(...answers) {
  const requests = [];
  const fetch = async (url, init = {}) => {
    requests.push({ url: new URL(url), ...init, headers: { ...init.headers } });
    const answer = answers.shift();
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { fetch, requests };
}

const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
const error = (status, code, headers) => json(status, { error: { code, message: `${code}!` } }, headers);
const accepted = (id = "ntf_1") => json(202, { notification_id: id });
const client = (fetch, options = {}) => new Pushgate(API, { token: "tok", fetch, retry: FAST, ...options });

test("send posts the notification with a bearer token and an idempotency key", async () => {
  const { fetch, requests } = script(accepted("ntf_7"));

  const id = await client(fetch).send("alice", "Hi", "There", { url: "https://a.example", ttl: 60 });

  assert.equal(id, "ntf_7");
  assert.equal(requests[0].method, "POST");
  assert.equal(requests[0].url.href, `${API}/push/send`);
  assert.deepEqual(JSON.parse(requests[0].body), { user_id: "alice", title: "Hi", body: "There", url: "https://a.example", ttl: 60 });
  assert.equal(requests[0].headers.authorization, "Bearer tok");
  assert.match(requests[0].headers["idempotency-key"], /^[0-9a-f]{32}$/);
});

test("retries share one idempotency key and honour Retry-After", async () => {
  const { fetch, requests } = script(error(429, "rate_limited", { "retry-after": "0" }), error(503, "unavailable"), accepted());

  assert.equal(await client(fetch).send("alice", "Hi", "There"), "ntf_1");
  assert.equal(requests.length, 3);
  assert.equal(new Set(requests.map((r) => r.headers["idempotency-key"])).size, 1);
});

test("each call gets its own idempotency key", async () => {
  const { fetch, requests } = script(accepted(), accepted());
  const push = client(fetch);

  await push.send("a", "b", "c");
  await push.send("a", "b", "c");

  assert.equal(new Set(requests.map((r) => r.headers["idempotency-key"])).size, 2);
});

test("a lost connection is retried, then reported", async () => {
  const recovered = script(new TypeError("fetch failed"), accepted());
  const down = script(new TypeError("fetch failed"), new TypeError("fetch failed"), new TypeError("fetch failed"));

  assert.equal(await client(recovered.fetch).send("a", "b", "c"), "ntf_1");
  await assert.rejects(client(down.fetch, { retry: { ...FAST, attempts: 3 } }).send("a", "b", "c"), ConnectionFailedError);
  assert.equal(down.requests.length, 3);
});

test("a Retry-After beyond the deadline raises at once", async () => {
  const { fetch, requests } = script(error(429, "quota_exceeded", { "retry-after": "3600" }));

  await assert.rejects(client(fetch).send("a", "b", "c"), (e) => e instanceof RateLimitedError && e.code === "quota_exceeded" && e.retryAfter === 3600);
  assert.equal(requests.length, 1);
});

test("the attempts are bounded", async () => {
  const { fetch, requests } = script(...Array.from({ length: 4 }, () => error(503, "unavailable")));

  await assert.rejects(client(fetch, { retry: { ...FAST, attempts: 4 } }).send("a", "b", "c"), ServiceUnavailableError);
  assert.equal(requests.length, 4);
});

test("errors raise their class with the API's code, without retrying", async () => {
  for (const [status, Kind, code] of [[404, NotFoundError, "approval_not_found"], [409, ConflictError, "already_decided"]]) {
    const { fetch, requests } = script(error(status, code));
    await assert.rejects(client(fetch).approvals.get("apr_1"), (e) => e instanceof Kind && e.status === status && e.code === code && e.apiMessage === `${code}!`);
    assert.equal(requests.length, 1);
  }
});

test("a request still in progress is tried again with the same key", async () => {
  const { fetch, requests } = script(error(409, "request_in_progress"), accepted());

  assert.equal(await client(fetch).send("a", "b", "c"), "ntf_1");
  assert.equal(new Set(requests.map((r) => r.headers["idempotency-key"])).size, 1);
});

test("devices iterate over every page", async () => {
  const { fetch, requests } = script(
    json(200, { devices: [{ device_id: "d1" }], next_cursor: "c1" }),
    json(200, { devices: [{ device_id: "d2" }], next_cursor: null }),
  );
  const seen = [];

  for await (const device of client(fetch).devices("app-1", { pageSize: 1 })) seen.push(device.device_id);

  assert.deepEqual(seen, ["d1", "d2"]);
  assert.deepEqual(requests.map((r) => r.url.searchParams.get("cursor")), [null, "c1"]);
  assert.deepEqual(requests.map((r) => r.url.searchParams.get("limit")), ["1", "1"]);
});

test("waiting for an approval long-polls until it is decided", async () => {
  const { fetch, requests } = script(json(200, { approval_id: "apr_1", status: "pending" }), json(200, { approval_id: "apr_1", status: "approved" }));

  const answer = await client(fetch).approvals.wait("apr_1", { timeoutMs: 120_000 });

  assert.equal(answer.status, "approved");
  assert.deepEqual(requests.map((r) => r.url.searchParams.get("wait")), ["25", "25"]);
});

test("client credentials are cached until shortly before expiry and sent with Basic", async () => {
  let now = 1_000_000;
  const credentials = new ClientCredentials("https://id.example/token", "svc", "s3cret:/", { now: () => now });
  const token = (value) => json(200, { access_token: value, token_type: "Bearer", expires_in: 3600 });
  const { fetch, requests } = script(token("A"), accepted(), accepted(), token("B"), accepted());
  const push = client(fetch, { token: credentials });

  await push.send("a", "b", "c");
  await push.send("a", "b", "c");
  now += 3_540_000; // an hour less the 60 s margin
  await push.send("a", "b", "c");

  assert.deepEqual(requests.map((r) => r.url.host), ["id.example", "push.example", "push.example", "id.example", "push.example"]);
  assert.equal(requests[4].headers.authorization, "Bearer B");
  assert.equal(Buffer.from(requests[0].headers.authorization.replace("Basic ", ""), "base64").toString(), "svc:s3cret%3A%2F");
  assert.deepEqual(Object.fromEntries(new URLSearchParams(requests[0].body)), { grant_type: "client_credentials", scope: "push:send" });
});

test("a refused token is replaced once; a refusing token endpoint is a TokenError", async () => {
  const credentials = new ClientCredentials("https://id.example/token", "svc", "pw");
  const token = (value) => json(200, { access_token: value, expires_in: 3600 });
  const refreshed = script(token("old"), error(401, "invalid_token"), token("new"), accepted());
  const refused = script(json(401, { error: "invalid_client" }));

  assert.equal(await client(refreshed.fetch, { token: credentials }).send("a", "b", "c"), "ntf_1");
  assert.equal(refreshed.requests[3].headers.authorization, "Bearer new");
  await assert.rejects(client(refused.fetch, { token: new ClientCredentials("https://id.example/token", "svc", "x") }).send("a", "b", "c"), TokenError);
});

test("broadcast posts to the broadcast route; its status and cancel follow", async () => {
  const { fetch, requests } = script(
    json(202, { broadcast_id: "brd_1" }),
    json(200, { broadcast_id: "brd_1", status: "running" }),
    json(200, { broadcast_id: "brd_1", status: "cancelled" }),
  );
  const push = client(fetch);

  assert.equal(await push.broadcast("Hi", "All", { platforms: ["web"] }), "brd_1");
  assert.equal((await push.broadcastStatus("brd_1")).status, "running");
  assert.equal((await push.cancelBroadcast("brd_1")).status, "cancelled");
  assert.deepEqual(requests.map((r) => `${r.method} ${r.url.pathname}`), ["POST /push/send/broadcast", "GET /push/broadcasts/brd_1", "DELETE /push/broadcasts/brd_1"]);
  assert.deepEqual(JSON.parse(requests[0].body), { title: "Hi", body: "All", platforms: ["web"] });
  assert.match(requests[0].headers["idempotency-key"], /^[0-9a-f]{32}$/);
});

// The test vector of the Standard Webhooks specification (and its reference libraries).
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  headers: { "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330", "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" },
  body: '{"test": 2432232314}',
};

test("verifyReceipt accepts the Standard Webhooks test vector", () => {
  assert.deepEqual(verifyReceipt(VECTOR.body, VECTOR.headers, VECTOR.secret, { now: 1614265330 }), { test: 2432232314 });
  assert.deepEqual(verifyReceipt(Buffer.from(VECTOR.body), new Headers(VECTOR.headers), VECTOR.secret, { now: 1614265330 + 299 }), { test: 2432232314 });
});

test("verifyReceipt refuses anything changed, and replays", () => {
  const at = { now: 1614265330 };
  const changed = [
    [VECTOR.body.replace("2432232314", "2432232315"), VECTOR.headers],
    [VECTOR.body, { ...VECTOR.headers, "webhook-id": "msg_other" }],
    [VECTOR.body, { ...VECTOR.headers, "webhook-timestamp": "1614265331" }],
    [VECTOR.body, { ...VECTOR.headers, "webhook-signature": VECTOR.headers["webhook-signature"].replace("v1,", "v2,") }],
  ];
  for (const [body, headers] of changed) {
    assert.throws(() => verifyReceipt(body, headers, VECTOR.secret, at), InvalidReceiptError);
  }
  assert.throws(() => verifyReceipt(VECTOR.body, VECTOR.headers, VECTOR.secret, { now: 1614265330 + 301 }), /five minutes/);
});
