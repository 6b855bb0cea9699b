import type { PushSubscriptionBody } from '@contract/notify';
import { api } from './api';

/** Where Vigil serves its service worker: at the root, so that it controls every page. */
const SW_URL = './sw.js';

/** Whether this browser can take push notifications at all (secure context, service workers, Push API). */
export function pushSupported(): boolean {
  return (
    window.isSecureContext &&
    'serviceWorker' in navigator &&
    'PushManager' in window &&
    'Notification' in window
  );
}

/**
 * Registers the service worker (alerts shown while no Vigil tab is open; the app installable on a
 * phone's home screen). Browsers without service workers, or on plain http from another machine,
 * simply go without.
 */
export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  navigator.serviceWorker.register(SW_URL, { scope: './' }).catch((err: unknown) => {
    console.warn('the service worker did not register', err);
  });
}

/** The browser's subscription with this Vigil, if notifications are on here. */
export async function currentSubscription(): Promise<PushSubscription | null> {
  if (!pushSupported()) return null;
  const registration = await navigator.serviceWorker.ready;
  return registration.pushManager.getSubscription();
}

/** Asks the person, subscribes with Vigil's VAPID key, and hands the subscription to Vigil. */
export async function enableNotifications(label: string): Promise<void> {
  if (!pushSupported())
    throw new Error('This browser cannot show notifications from Vigil here (it needs HTTPS).');
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') {
    throw new Error('Notifications are blocked for this site: allow them in the browser’s site settings.');
  }
  const registration = await navigator.serviceWorker.ready;
  const { publicKey } = await api.pushKey();
  const subscription =
    (await registration.pushManager.getSubscription()) ??
    (await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: Uint8Array.from(atob(publicKey.replace(/-/g, '+').replace(/_/g, '/')), (c) =>
        c.charCodeAt(0),
      ),
    }));
  const json = subscription.toJSON();
  const body: PushSubscriptionBody = {
    endpoint: subscription.endpoint,
    keys: { p256dh: json.keys?.p256dh ?? '', auth: json.keys?.auth ?? '' },
    label,
  };
  await api.subscribePush(body);
}

/** Stops notifications in this browser: at Vigil (its row) and at the push service. */
export async function disableNotifications(subscriptionId: number | null): Promise<void> {
  if (subscriptionId !== null) await api.unsubscribePush(subscriptionId);
  const subscription = await currentSubscription();
  await subscription?.unsubscribe();
}
