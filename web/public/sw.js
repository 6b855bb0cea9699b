// Vigil's service worker: shows alerts pushed by Vigil (Web Push) and opens them on click. It
// caches nothing: the UI always comes from Vigil, so an old copy can never outlive an upgrade.
'use strict';

/** A path on this origin, or the start page: a push message can never send the user elsewhere. */
function sameOriginUrl(path) {
  try {
    const url = new URL(typeof path === 'string' ? path : '/', self.location.origin);
    return url.origin === self.location.origin ? url.href : self.location.origin + '/';
  } catch {
    return self.location.origin + '/';
  }
}

function payloadOf(event) {
  if (!event.data) return {};
  try {
    return event.data.json();
  } catch {
    return { body: event.data.text() };
  }
}

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  const alert = payloadOf(event);
  const options = {
    body: typeof alert.body === 'string' ? alert.body : '',
    // One notification per alert: a repeated delivery replaces, never doubles.
    tag: alert.alertId !== undefined ? String(alert.alertId) : undefined,
    timestamp: typeof alert.timeMs === 'number' ? alert.timeMs : Date.now(),
    icon: 'icons/icon-192.png',
    badge: 'icons/icon-192.png',
    data: { url: sameOriginUrl(alert.url) },
  };
  // The snapshot is fetched by the browser from Vigil with the user's own session.
  if (typeof alert.snapshotUrl === 'string') options.image = sameOriginUrl(alert.snapshotUrl);
  const title = typeof alert.title === 'string' && alert.title ? alert.title : 'Vigil';
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = sameOriginUrl(event.notification.data && event.notification.data.url);
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      for (const client of windows) {
        if (new URL(client.url).origin !== self.location.origin) continue;
        await client.focus();
        if ('navigate' in client) await client.navigate(url);
        return;
      }
      await self.clients.openWindow(url);
    })(),
  );
});
