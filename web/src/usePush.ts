import { useEffect, useRef } from 'react';
import type { EventChange, MotionChange } from '../../src/events/types';
import { pushSocketUrl } from './api';

export type PushMessage =
  | ({ type: 'event'; kind: EventChange['type'] } & Omit<EventChange, 'type'>)
  | ({ type: 'motion' } & MotionChange)
  | { type: 'hello' | 'camera' | 'objects' | 'subscribed' | 'error' };

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
      socket.onclose = () => {
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
