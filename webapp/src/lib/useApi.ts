import { useCallback, useEffect, useRef, useState } from 'react';
import { get } from './api';

// set replaces the data with a newer answer got another way (the answer
// to a change); a load already under way then does not overwrite it.
export type Loaded<T> = { data: T | undefined; error: unknown; loading: boolean; reload: () => void; set: (d: T) => void };

// useApi loads path (null: nothing yet) and reloads it on demand. An answer
// to an older path never overwrites a newer one.
export function useApi<T>(path: string | null): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    if (path === null) return;
    const ticket = ++latest.current;
    setLoading(true);
    get<T>(path)
      .then((d) => {
        if (ticket !== latest.current) return;
        setData(d);
        setError(undefined);
      })
      .catch((e) => ticket === latest.current && setError(e))
      .finally(() => ticket === latest.current && setLoading(false));
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const set = useCallback((d: T) => {
    latest.current++;
    setData(d);
    setError(undefined);
    setLoading(false);
  }, []);
  return { data, error, loading, reload, set };
}
