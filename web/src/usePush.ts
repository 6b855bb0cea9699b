import { useEffect, useRef } from 'react';
import { WS_CLOSE_ACCESS_REVOKED } from '@contract/close-codes';
import type { WsServerMessage } from '@contract/push';
import { api, pushSocketUrl } from './api';

export type PushMessage = WsServerMessage;

/** Vigil's push channel (/api/ws): calls onMessage for every message; reconnects on its own. */
export function usePush(onMessage: (message: PushMessage) => void): void {
  const handler = useRef(onMessage);
  handler.current = onMessage;
  useEffect(() => {
    let socket: WebSocket | null = null;
    let timer: number | null = null;
    let stopped = false;
    const connect = () => {
      socket = new WebSocket(pushSocketUrl());
      socket.onmessage = (e: MessageEvent<string>) => handler.current(JSON.parse(e.data) as PushMessage);
      socket.onclose = (event) => {
        // Access ended (signed out, account or token changed): retrying would be refused forever.
        // A signed-in request tells the app, which goes to sign-in when the session is gone.
        if (event.code === WS_CLOSE_ACCESS_REVOKED) {
          void api.health().catch(() => undefined);
          return;
        }
        if (!stopped) timer = window.setTimeout(connect, 2000);
      };
    };
    connect();
    return () => {
      stopped = true;
      if (timer !== null) window.clearTimeout(timer);
      socket?.close();
    };
  }, []);
}
