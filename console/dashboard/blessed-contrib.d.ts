// The parts of blessed-contrib the dashboard uses (the package ships no types).
declare module 'blessed-contrib' {
  import type { Widgets } from 'blessed';
  type Widget = Widgets.BoxElement & { setData(data: unknown): void };
  export class grid {
    constructor(options: { rows: number; cols: number; screen: Widgets.Screen });
    set(row: number, col: number, rowSpan: number, colSpan: number, widget: unknown, options: Record<string, unknown>): Widget & {
      setPercent(percent: number): void;
      log(line: string): void;
      setLabel(label: string): void;
    };
  }
  export const line: unknown;
  export const bar: unknown;
  export const gauge: unknown;
  export const table: unknown;
  export const log: unknown;
  export const markdown: unknown;
}
