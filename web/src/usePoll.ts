import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api';

export interface Polled<T> {
  data: T | null;
  error: string | null;
  /** The API's error code of the last failure (FORBIDDEN: the user may not see this). */
  errorCode: string | null;
  refresh: () => void;
}

/** Loads data now and every intervalMs while the view is shown; keeps the last good data on errors. */
export function usePoll<T>(
  load: () => Promise<T>,
  intervalMs: number,
  deps: readonly unknown[] = [],
): Polled<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [errorCode, setErrorCode] = useState<string | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((n) => n + 1), []);

  useEffect(() => {
    let cancelled = false;
    const run = () =>
      loadRef.current().then(
        (value) => {
          if (cancelled) return;
          setData(value);
          setError(null);
          setErrorCode(null);
        },
        (err: unknown) => {
          if (cancelled) return;
          setError(err instanceof Error ? err.message : String(err));
          setErrorCode(err instanceof ApiError ? err.code : null);
        },
      );
    void run();
    const timer = window.setInterval(() => void run(), intervalMs);
    return () => {
      cancelled = true;
      window.clearInterval(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- callers list what the loader depends on
  }, [intervalMs, tick, ...deps]);

  return { data, error, errorCode, refresh };
}
