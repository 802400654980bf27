/*
 * pushgate's service worker: shows every push pushgate sends, reports what the user saw and
 * tapped, answers approval buttons, and keeps the subscription alive. A classic script with
 * no imports and no build step; register it through pushgate.js, which puts the API's base URL
 * and the app id in its query (`pushgate-sw.js?api=<apiBase>&app=<appId>`).
 *
 * The payload is the JSON pushgate encrypts for the browser (clients/web/README.md):
 * {notification_id, title, body, data, url, icon, image, tag, actions?, requireInteraction?,
 *  approval?, interactions?}.
 */
"use strict";

const GENERIC_TITLE = "New notification";
const CONFIG = readConfig(self.location.href);

function readConfig(scriptUrl) {
  const query = new URL(scriptUrl).searchParams;
  return { apiBase: (query.get("api") || "").replace(/\/+$/, ""), appId: query.get("app") || "" };
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function text(value) {
  return typeof value === "string" && value !== "" ? value : undefined;
}

// The payload as the worker can trust it, or null when there is none or it is not pushgate's.
function readPayload(data) {
  if (!data) {
    return null;
  }
  try {
    const payload = data.json();
    return isObject(payload) && typeof payload.title === "string" ? payload : null;
  } catch (_error) {
    return null;
  }
}

function notificationOptions(payload) {
  const options = {
    body: typeof payload.body === "string" ? payload.body : "",
    icon: text(payload.icon),
    image: text(payload.image),
    tag: text(payload.tag),
    data: { ...payload },
    requireInteraction: payload.requireInteraction === true,
  };
  if (Array.isArray(payload.actions)) {
    options.actions = payload.actions.filter(
      (a) => isObject(a) && typeof a.action === "string" && typeof a.title === "string",
    );
  }
  for (const key of Object.keys(options)) {
    if (options[key] === undefined) {
      delete options[key];
    }
  }
  return options;
}

// Reports to pushgate never fail the event: a lost report is only a missing statistic.
function report(url, body) {
  if (typeof url !== "string" || url === "") {
    return Promise.resolve();
  }
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  }).catch(() => undefined);
}

async function onPush(event) {
  const payload = readPayload(event.data);
  // userVisibleOnly: every push shows a notification, even one that cannot be read.
  if (payload === null) {
    await self.registration.showNotification(GENERIC_TITLE, { body: "", data: {} });
    return;
  }
  await self.registration.showNotification(payload.title, notificationOptions(payload));
  await report(payload.interactions, { event: "displayed" });
}

async function focusOrOpen(url) {
  const target = new URL(url, self.location.href).href;
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = windows.find((client) => client.url === target && "focus" in client);
  if (open) {
    return open.focus();
  }
  return self.clients.openWindow(target);
}

function onNotificationClick(event) {
  const notification = event.notification;
  const payload = isObject(notification.data) ? notification.data : {};
  const action = event.action || null;
  notification.close();
  const decisions = isObject(payload.approval) ? payload.approval.decisions : null;
  const decision = action && isObject(decisions) ? text(decisions[action]) : undefined;
  const tasks = [report(payload.interactions, { event: "clicked", action })];
  if (decision) {
    // The decision URL is the capability: no body, no credentials.
    tasks.push(fetch(decision, { method: "POST" }).catch(() => undefined));
  } else if (text(payload.url)) {
    // Started at once: browsers only let a worker open a window shortly after the click.
    tasks.push(focusOrOpen(payload.url).catch(() => undefined));
  }
  return Promise.all(tasks);
}

async function applicationServerKey(oldSubscription) {
  const known = oldSubscription && oldSubscription.options
    ? oldSubscription.options.applicationServerKey
    : null;
  if (known) {
    return known;
  }
  // The key is public: the worker can fetch it without the user's token.
  const response = await fetch(`${CONFIG.apiBase}/push/vapid-public-key/${encodeURIComponent(CONFIG.appId)}`);
  if (!response.ok) {
    throw new Error(`vapid-public-key answered ${response.status}`);
  }
  return (await response.json()).publicKey;
}

// Registering needs the user's token, which only the page has: the worker subscribes again
// and hands the subscription to every open page of the app; pushgate.js registers it there,
// or on the next subscribe() when no page is open (clients/web/README.md, "Limits").
async function onSubscriptionChange(event) {
  const key = await applicationServerKey(event.oldSubscription);
  const subscription =
    event.newSubscription ||
    (await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }));
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const client of windows) {
    client.postMessage({ type: "pushgate:subscriptionchange", subscription: subscription.toJSON() });
  }
}

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("push", (event) => event.waitUntil(onPush(event)));
self.addEventListener("notificationclick", (event) => event.waitUntil(onNotificationClick(event)));
self.addEventListener("pushsubscriptionchange", (event) =>
  event.waitUntil(onSubscriptionChange(event)),
);
