import { useEffect } from 'react';

/**
 * React's development build (a test, or a user's NODE_ENV) records every render as a
 * performance measure with its changed props, and Node's timeline keeps them all: a console
 * left open grew by megabytes a second. Nobody reads them in a terminal; they are cleared.
 */
export function useTimelineCleanup(everyMs = 1000): void {
  useEffect(() => {
    const timer = setInterval(() => {
      performance.clearMeasures();
      performance.clearMarks();
    }, everyMs);
    timer.unref();
    return () => clearInterval(timer);
  }, [everyMs]);
}
