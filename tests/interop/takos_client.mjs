#!/usr/bin/env node
// takos_client.mjs — a stand-in for a real takos OSS instance talking to a push gateway.
//
// Everything that touches bytes on the wire (canonical JSON, key import, signature encoding,
// envelope/event shapes, URL building, headers) is ported from the public takos OSS source,
// github.com/tako0614/yurucommu-core (the repo that carried takos before it became yurucommu).
// Each function cites the file and commit it was ported from. Node 20, built-ins only.
//
// Versions reproduced:
//   registration  569cd498 (2025-11-12, field "tenant")  ->  ccb2ef24 .. ee0126d0^ (field "instance")
//                 (after ee0126d0, 2025-11-23, takos stopped sending registrations at all)
//   events old    57cd3a52 (2025-11-14): {tenant, instance, userId, notification}
//          mid    4f027189 (2025-11-29) .. 3ad7defb api/: {instance, userId, notification}
//          new    ea6a60f9 / 77ed6e4f .. a9caa563 (2025-12-07 .. 2025-12-21): notification has data_json
//          test   3bb6f764 .. a9caa563 api/src/routes/push.ts buildTestPayload (POST /admin/push/verify)
//
// CLI:
//   keygen
//   register --gateway URL --key PKCS8 --instance NAME --user ID --token TOK
//            [--platform P] [--app-id A] [--action register|deregister] [--variant instance|tenant]
//            [--issued-at ISO] [--nonce N]
//   event    --gateway URL --key PKCS8 --instance NAME --user ID [--id ID] [--type T] [--message M]
//            [--actor A] [--ref-type R] [--ref-id R] [--data JSON] [--created-at ISO]
//            [--secret S] [--variant old|mid|new|test]
//   sign      --key PKCS8 --json JSON     -> prints the base64 signature (signPushPayload)
//   canonical --json JSON                 -> prints the canonical string that would be signed
// --key accepts a PEM or a bare base64 PKCS#8 DER (takos' pemToArrayBuffer strips headers/whitespace).

import { webcrypto } from 'node:crypto';

const crypto = webcrypto;
const encoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Source: platform/src/server/push-signature.ts @ 77ed6e4f (identical in a9caa563), and
//         backend/src/lib/push-registration.ts @ 57cd3a52 (same body, there named canonicalize()
//         in 569cd498). Ported verbatim. Quirks kept on purpose:
//   * keys are emitted raw between quotes (NOT JSON-escaped);
//   * keys sorted with Array.prototype.sort() (UTF-16 code-unit order);
//   * null -> falls through to JSON.stringify -> "null"; undefined -> the text "undefined";
//   * an array/object INSIDE an array goes through canonicalizePushPayload, so a nested array
//     [[1,2]] becomes [{"0":1,"1":2}];
//   * scalars use JSON.stringify (JS number formatting, JS string escaping, non-ASCII literal).
function canonicalizePushPayload(input) {
  const sortedKeys = Object.keys(input).sort();
  const entries = sortedKeys.map((key) => {
    const value = input[key];
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return `"${key}":${canonicalizePushPayload(value)}`;
    }
    if (Array.isArray(value)) {
      const items = value
        .map((v) =>
          v && typeof v === 'object'
            ? canonicalizePushPayload(v)
            : JSON.stringify(v),
        )
        .join(',');
      return `"${key}":[${items}]`;
    }
    return `"${key}":${JSON.stringify(value)}`;
  });
  return `{${entries.join(',')}}`;
}

// Source: platform/src/auth/crypto-keys.ts @ 57cd3a52 (unchanged through a9caa563), pemToArrayBuffer.
function pemToArrayBuffer(pem) {
  // Remove PEM headers/footers and whitespace
  const base64 = pem
    .replace(/-----BEGIN [A-Z ]+-----/g, '')
    .replace(/-----END [A-Z ]+-----/g, '')
    .replace(/\s+/g, '');

  // Decode base64
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes.buffer;
}

// Source: platform/src/auth/crypto-keys.ts @ 57cd3a52, arrayBufferToBase64 (private helper there).
function arrayBufferToBase64(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = '';
  for (let i = 0; i < bytes.byteLength; i++) {
    binary += String.fromCharCode(bytes[i]);
  }
  return btoa(binary);
}

// Source: platform/src/auth/crypto-keys.ts @ 57cd3a52, arrayBufferToPem (used there for the RSA
// ActivityPub keys; takos has no push-key generator of its own — the docs point at takos-private's
// `npm run generate:push-key` or OpenSSL — so this is the closest takos-native PEM writer).
// 64-character lines joined with "\n", NO trailing newline.
function arrayBufferToPem(buffer, label) {
  const base64 = arrayBufferToBase64(buffer);
  const lines = [];
  lines.push(`-----BEGIN ${label}-----`);
  for (let i = 0; i < base64.length; i += 64) {
    lines.push(base64.slice(i, i + 64));
  }
  lines.push(`-----END ${label}-----`);
  return lines.join('\n');
}

// Source: platform/src/server/push-signature.ts @ 77ed6e4f, getPrivateKey
// (= backend/src/lib/push-registration.ts @ 569cd498..57cd3a52). env.PUSH_REGISTRATION_PRIVATE_KEY
// is trimmed, parsed with pemToArrayBuffer, imported as PKCS#8 ECDSA P-256, non-extractable.
let cachedPrivateKey = null;
async function getPrivateKey(env) {
  const pem = env.PUSH_REGISTRATION_PRIVATE_KEY?.trim();
  if (!pem) {
    throw new Error('PUSH_REGISTRATION_PRIVATE_KEY must be configured for push delegation');
  }
  if (cachedPrivateKey && cachedPrivateKey.raw === pem) {
    return cachedPrivateKey.key;
  }
  const keyData = pemToArrayBuffer(pem);
  const key = await crypto.subtle.importKey(
    'pkcs8',
    keyData,
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
  cachedPrivateKey = { raw: pem, key };
  return key;
}

// Source: platform/src/server/push-signature.ts @ 77ed6e4f, buildPushRegistrationPayload
// (= backend/src/lib/push-registration.ts @ ccb2ef24/57cd3a52; @ 569cd498 the second field was
// `tenant: payload.tenant ?? ""` instead of `instance` — selected with idField="tenant").
// `overrides` (issuedAt/nonce) exist only so tests can make deterministic or stale envelopes.
const REGISTRATION_TTL_SECONDS = 5 * 60; // 5 minutes
async function buildPushRegistrationPayload(env, input, idField = 'instance', overrides = {}) {
  const { action, payload } = input;
  const issuedAt = overrides.issuedAt ? new Date(overrides.issuedAt) : new Date();
  const expiresAt = new Date(issuedAt.getTime() + REGISTRATION_TTL_SECONDS * 1000);
  const envelope = {
    action,
    [idField]: payload[idField] ?? '',
    userId: payload.userId ?? '',
    token: payload.token ?? '',
    platform: payload.platform ?? '',
    appId: payload.appId ?? '',
    issuedAt: issuedAt.toISOString(),
    expiresAt: expiresAt.toISOString(),
    nonce: overrides.nonce ?? crypto.randomUUID(),
  };
  const canonical = canonicalizePushPayload(envelope);
  const key = await getPrivateKey(env);
  const signatureBytes = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, encoder.encode(canonical));
  const signature = btoa(String.fromCharCode(...new Uint8Array(signatureBytes)));
  return { ...envelope, signature };
}

// Source: platform/src/server/push-signature.ts @ 77ed6e4f, signPushPayload
// (= backend/src/lib/push-registration.ts @ 57cd3a52). Note the JSON round-trip first:
// Dates become ISO strings, undefined members vanish — then canonicalise + sign.
async function signPushPayload(env, payload) {
  const normalized = JSON.parse(JSON.stringify(payload));
  const canonical = canonicalizePushPayload(normalized);
  const key = await getPrivateKey(env);
  const signatureBytes = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, encoder.encode(canonical));
  return btoa(String.fromCharCode(...new Uint8Array(signatureBytes)));
}

// Source: platform/src/subdomain.ts @ 57cd3a52 / 60f27932, normalizeDomain + requireInstanceDomain.
// Used for EVENTS only (notify / sendPushNotification / push verify). Registration uses the raw
// `c.env.INSTANCE_DOMAIN!` and the well-known document uses `INSTANCE_DOMAIN?.trim()`.
function normalizeDomain(domain) {
  if (!domain) return undefined;
  return String(domain).trim().toLowerCase();
}
function requireInstanceDomain(env) {
  // the real fallback chain is env ?? setInstanceConfig() ?? "yurucommu.com" (57cd3a52) / "example.com" (60f27932)
  const domain = normalizeDomain(env?.INSTANCE_DOMAIN);
  if (!domain) throw new Error('INSTANCE_DOMAIN must be configured');
  return domain;
}

// Source: backend/src/index.ts @ 57cd3a52 lines 353-395, syncPushDeviceWithHost.
// URL is built with new URL("/push/register", base): an absolute path, so any path component of
// PUSH_GATEWAY_URL is DROPPED. Only "Content-Type: application/json". No timeout, no retry;
// takos only checks res.ok and logs the text body on failure.
async function syncPushDeviceWithHost(env, signedPayload) {
  const gatewayUrl = env.PUSH_GATEWAY_URL?.trim();
  if (!gatewayUrl) throw new Error('push gateway URL not configured; skipping KV sync');
  const endpoint = new URL('/push/register', gatewayUrl);
  const headers = { 'Content-Type': 'application/json' };
  const body = JSON.stringify(signedPayload);
  const res = await fetch(endpoint.toString(), { method: 'POST', headers, body });
  return { url: endpoint.toString(), headers, body, res };
}

// Source: backend/src/index.ts @ 57cd3a52 lines 1818-1900, POST/DELETE /me/push-devices — the
// values it feeds to buildPushRegistrationPayload. register: token trimmed, platform trimmed or
// "unknown" (the 32-char slice is only for the DB row), appId = body.appId if it is a string else "".
// deregister: platform "" and appId "" always (this CLI lets you override them for negative tests).
function registrationInput(opts) {
  const action = opts.action || 'register';
  if (action !== 'register' && action !== 'deregister') throw new Error(`bad --action ${action}`);
  const idField = opts.variant === 'tenant' ? 'tenant' : 'instance';
  const token = String(opts.token ?? '').trim();
  if (!token) throw new Error('token is required');
  let platform;
  let appId;
  if (action === 'register') {
    const platformRaw = typeof opts.platform === 'string' ? opts.platform.trim() : '';
    platform = platformRaw || 'unknown';
    appId = typeof opts['app-id'] === 'string' ? opts['app-id'] : '';
  } else {
    platform = typeof opts.platform === 'string' ? opts.platform : '';
    appId = typeof opts['app-id'] === 'string' ? opts['app-id'] : '';
  }
  return {
    idField,
    input: {
      action,
      payload: {
        [idField]: opts.instance, // c.env.INSTANCE_DOMAIN! — raw, not trimmed, not lower-cased
        userId: opts.user ?? '',
        token,
        platform,
        appId,
      },
    },
  };
}

// Source: backend/src/lib/notifications.ts @ 57cd3a52 (notify, "old") and @ 4f027189 ("mid");
//         platform/src/app/services/factories.ts @ 77ed6e4f..60f27932 (send + sendPushNotification, "new");
//         api/src/routes/push.ts @ a9caa563 (= api/src/routes/admin-push.ts @ 3bb6f764) buildTestPayload ("test").
function buildEventPayload(variant, instanceDomain, opts) {
  const createdAt = opts['created-at'] ? new Date(opts['created-at']) : new Date();
  if (variant === 'test') {
    // buildTestPayload(instance, userId, message)
    return {
      instance: instanceDomain,
      tenant: instanceDomain,
      userId: opts.user,
      notification: {
        id: opts.id ?? `push-test-${crypto.randomUUID()}`,
        type: opts.type ?? 'test',
        message: opts.message || 'Push notification setup test',
      },
    };
  }
  if (variant === 'new') {
    // factories.ts createNotificationService().send(): refType/refId/actor default to null, data_json = input.data ?? null
    const record = {
      id: opts.id ?? crypto.randomUUID(),
      user_id: opts.user,
      type: opts.type ?? 'follow',
      actor_id: opts.actor ?? null,
      ref_type: opts['ref-type'] ?? null,
      ref_id: opts['ref-id'] ?? null,
      message: opts.message ?? '',
      data_json: opts.data !== undefined ? JSON.parse(opts.data) : null,
      created_at: createdAt,
      read: 0,
    };
    // sendPushNotification(): payload = { instance, userId: record.user_id, notification: record }
    return { instance: instanceDomain, userId: record.user_id, notification: record };
  }
  // notify(store, env, userId, type, actorId, refType, refId, message): every argument a string
  const record = {
    id: opts.id ?? crypto.randomUUID(),
    user_id: opts.user,
    type: opts.type ?? 'follow',
    actor_id: opts.actor ?? '',
    ref_type: opts['ref-type'] ?? '',
    ref_id: opts['ref-id'] ?? '',
    message: opts.message ?? '',
    created_at: createdAt,
    read: 0,
  };
  if (variant === 'old') {
    return { tenant: instanceDomain, instance: instanceDomain, userId: opts.user, notification: record };
  }
  if (variant === 'mid') {
    return { instance: instanceDomain, userId: opts.user, notification: record };
  }
  throw new Error(`unknown --variant ${variant}`);
}

// Sources as above. old/mid/new: URL = `${env.PUSH_GATEWAY_URL}/internal/push/events` (raw string
// concat, no trim, no trailing-slash strip); headers in insertion order Content-Type,
// X-Push-Secret (only if PUSH_WEBHOOK_SECRET is truthy, untrimmed), X-Push-Signature (only if
// signing succeeded). If signing throws, takos still POSTs — just without X-Push-Signature.
// test: resolvePushTarget (api/src/lib/push-check.ts @ a9caa563) trims the base and strips one
// trailing "/", trims the secret; header order Content-Type, X-Push-Signature, X-Push-Secret.
// The response is ignored by notify/sendPushNotification (not even res.ok); the test route reads it.
async function dispatchEvent(env, variant, opts) {
  const instanceDomain = requireInstanceDomain(env);
  const payload = buildEventPayload(variant, instanceDomain, opts);
  let payloadSignature = null;
  let signError = null;
  try {
    payloadSignature = await signPushPayload(env, payload);
  } catch (error) {
    signError = String(error?.message || error);
  }
  const headers = { 'Content-Type': 'application/json' };
  let url;
  if (variant === 'test') {
    const gatewayBase = env.PUSH_GATEWAY_URL?.trim() || '';
    url = `${gatewayBase.replace(/\/$/, '')}/internal/push/events`;
    const secret = env.PUSH_WEBHOOK_SECRET?.trim() || null;
    if (payloadSignature) headers['X-Push-Signature'] = payloadSignature;
    if (secret) headers['X-Push-Secret'] = secret;
  } else {
    url = `${env.PUSH_GATEWAY_URL}/internal/push/events`;
    const secret = env.PUSH_WEBHOOK_SECRET;
    if (secret) headers['X-Push-Secret'] = secret;
    if (payloadSignature) headers['X-Push-Signature'] = payloadSignature;
  }
  const body = JSON.stringify(payload);
  const res = await fetch(url, { method: 'POST', headers, body });
  return { url, headers, body, res, signError };
}

// ------------------------------------------------------------------------------- CLI plumbing

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const name = arg.slice(2);
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    opts[name] = value;
    i += 1;
  }
  return opts;
}

function need(opts, ...names) {
  for (const name of names) {
    if (opts[name] === undefined) throw new Error(`--${name} is required`);
  }
}

async function readResponse(res) {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function print(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  const opts = parseArgs(rest);
  switch (command) {
    case 'keygen': {
      const { publicKey, privateKey } = await crypto.subtle.generateKey(
        { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'],
      );
      const pkcs8 = await crypto.subtle.exportKey('pkcs8', privateKey);
      const spki = await crypto.subtle.exportKey('spki', publicKey);
      const pem = arrayBufferToPem(spki, 'PUBLIC KEY');
      print({
        privateKeyPkcs8: arrayBufferToBase64(pkcs8),
        publicKeyPem: `${pem}\n`,
        // what /.well-known/takos-push.json would carry: PUSH_REGISTRATION_PUBLIC_KEY?.trim()
        wellKnownPublicKey: pem,
        privateKeyPem: arrayBufferToPem(pkcs8, 'PRIVATE KEY'),
      });
      return;
    }
    case 'sign': {
      need(opts, 'key', 'json');
      const signature = await signPushPayload({ PUSH_REGISTRATION_PRIVATE_KEY: opts.key }, JSON.parse(opts.json));
      process.stdout.write(`${signature}\n`);
      return;
    }
    case 'canonical': {
      need(opts, 'json');
      process.stdout.write(`${canonicalizePushPayload(JSON.parse(JSON.stringify(JSON.parse(opts.json))))}\n`);
      return;
    }
    case 'register': {
      need(opts, 'gateway', 'key', 'instance', 'user', 'token');
      const env = { PUSH_GATEWAY_URL: opts.gateway, PUSH_REGISTRATION_PRIVATE_KEY: opts.key, INSTANCE_DOMAIN: opts.instance };
      const { idField, input } = registrationInput(opts);
      const signed = await buildPushRegistrationPayload(env, input, idField, {
        issuedAt: opts['issued-at'],
        nonce: opts.nonce,
      });
      const { url, headers, body, res } = await syncPushDeviceWithHost(env, signed);
      print({ status: res.status, body: await readResponse(res), sent: body, url, headers, ok: res.ok });
      return;
    }
    case 'event': {
      need(opts, 'gateway', 'key', 'instance', 'user');
      const variant = opts.variant || 'new';
      const env = {
        PUSH_GATEWAY_URL: opts.gateway,
        PUSH_REGISTRATION_PRIVATE_KEY: opts.key,
        INSTANCE_DOMAIN: opts.instance,
        PUSH_WEBHOOK_SECRET: opts.secret,
      };
      const { url, headers, body, res, signError } = await dispatchEvent(env, variant, opts);
      const out = { status: res.status, body: await readResponse(res), sent: body, url, headers };
      if (signError) out.signError = signError;
      print(out);
      return;
    }
    default:
      throw new Error(`usage: takos_client.mjs keygen|register|event|sign|canonical [--options]`);
  }
}

main().catch((error) => {
  process.stderr.write(`${error?.stack || error}\n`);
  process.exitCode = 1;
});
