/*
 * pushgate.js: subscribe this browser to an app's pushes through pushgate. An ES module with
 * no dependencies and no build step; it pairs with pushgate-sw.js (clients/web/README.md).
 *
 *   import { subscribe, unsubscribe, permissionState } from "/pushgate.js";
 *   const { deviceId } = await subscribe({ apiBase, appId, getToken: async () => userToken });
 */

const DEFAULT_SW_URL = "/pushgate-sw.js";
const DEVICE_KEY = "pushgate:device:";

/** An error with the API's `error.code` (or a local one) and a message fit to show. */
export class PushgateError extends Error {
  constructor(code, message, status = null) {
    super(message);
    this.name = "PushgateError";
    this.code = code;
    this.status = status;
  }
}

function supported() {
  return (
    typeof navigator !== "undefined" &&
    "serviceWorker" in navigator &&
    typeof window !== "undefined" &&
    "PushManager" in window &&
    "Notification" in window
  );
}

/** "default" | "granted" | "denied" | "unsupported" */
export function permissionState() {
  return supported() ? Notification.permission : "unsupported";
}

function base64UrlToBytes(value) {
  const base64 = value.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function sameKey(buffer, bytes) {
  if (!buffer) {
    return false;
  }
  const current = new Uint8Array(buffer);
  return current.length === bytes.length && current.every((b, i) => b === bytes[i]);
}

async function apiError(response) {
  let code = "http_" + response.status;
  let message = `pushgate answered ${response.status}`;
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch (_error) {
    // not JSON: keep the status
  }
  return new PushgateError(code, message, response.status);
}

async function vapidKey(apiBase, appId) {
  const response = await fetch(`${apiBase}/push/vapid-public-key/${encodeURIComponent(appId)}`);
  if (!response.ok) {
    throw await apiError(response);
  }
  return base64UrlToBytes((await response.json()).publicKey);
}

function workerUrl(swUrl, apiBase, appId) {
  const url = new URL(swUrl, location.href);
  url.searchParams.set("api", apiBase);
  url.searchParams.set("app", appId);
  return url.href;
}

async function activeRegistration(scriptUrl, scope) {
  const registration = await navigator.serviceWorker.register(scriptUrl, scope ? { scope } : {});
  const worker = registration.installing || registration.waiting || registration.active;
  if (worker && worker.state !== "activated") {
    await new Promise((resolve) => {
      worker.addEventListener("statechange", () => worker.state === "activated" && resolve());
    });
  }
  return registration;
}

async function register(apiBase, appId, getToken, subscription) {
  const response = await fetch(`${apiBase}/push/devices/register`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${await getToken()}`,
    },
    body: JSON.stringify({
      app_id: appId,
      platform: "web",
      push_token: subscription,
      user_agent: navigator.userAgent.slice(0, 512),
    }),
  });
  if (!response.ok) {
    throw await apiError(response);
  }
  const { device_id: deviceId } = await response.json();
  localStorage.setItem(DEVICE_KEY + appId, deviceId);
  return { deviceId, created: response.status === 201 };
}

// While a page is open, it registers the subscription the worker made after the browser
// replaced the old one (pushsubscriptionchange): only the page holds the user's token.
const listening = new Set();
function followSubscriptionChanges(apiBase, appId, getToken) {
  if (listening.has(appId)) {
    return;
  }
  listening.add(appId);
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data && event.data.type === "pushgate:subscriptionchange") {
      register(apiBase, appId, getToken, event.data.subscription).catch(() => undefined);
    }
  });
}

/**
 * Asks for permission if not yet given, registers the worker, subscribes with the app's VAPID
 * key and registers the subscription with pushgate as a "web" device of the token's user.
 * Returns {deviceId, created, subscription}. Throws PushgateError ("unsupported",
 * "permission_denied", or the API's error code).
 */
export async function subscribe({ apiBase, appId, getToken, swUrl = DEFAULT_SW_URL, scope }) {
  if (!supported()) {
    throw new PushgateError("unsupported", "This browser cannot receive Web Push messages");
  }
  const base = apiBase.replace(/\/+$/, "");
  const permission =
    Notification.permission === "default"
      ? await Notification.requestPermission()
      : Notification.permission;
  if (permission !== "granted") {
    throw new PushgateError("permission_denied", "Notifications are not allowed for this site");
  }
  const key = await vapidKey(base, appId);
  const registration = await activeRegistration(workerUrl(swUrl, base, appId), scope);
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options.applicationServerKey, key)) {
    // The app's VAPID key changed: a subscription is bound to the key it was made with.
    await subscription.unsubscribe();
    subscription = null;
  }
  if (!subscription) {
    subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: key,
    });
  }
  const json = subscription.toJSON();
  const device = await register(base, appId, getToken, json);
  followSubscriptionChanges(base, appId, getToken);
  return { ...device, subscription: json };
}

/**
 * Unsubscribes this browser and, given getToken, deletes its device at pushgate (a device
 * whose subscription is gone would be removed anyway on the next send, answered 404/410).
 * Returns true when there was a subscription.
 */
export async function unsubscribe({ apiBase, appId, getToken, swUrl = DEFAULT_SW_URL, scope } = {}) {
  if (!supported()) {
    return false;
  }
  const registration = await navigator.serviceWorker.getRegistration(
    scope || new URL(swUrl, location.href).href,
  );
  const subscription = registration ? await registration.pushManager.getSubscription() : null;
  const had = subscription ? await subscription.unsubscribe() : false;
  const deviceId = appId ? localStorage.getItem(DEVICE_KEY + appId) : null;
  if (deviceId && apiBase && getToken) {
    const response = await fetch(
      `${apiBase.replace(/\/+$/, "")}/push/devices/${encodeURIComponent(deviceId)}`,
      { method: "DELETE", headers: { authorization: `Bearer ${await getToken()}` } },
    );
    if (!response.ok && response.status !== 404) {
      throw await apiError(response);
    }
    localStorage.removeItem(DEVICE_KEY + appId);
  }
  return had;
}
