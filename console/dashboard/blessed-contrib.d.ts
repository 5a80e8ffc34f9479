// The part of blessed-contrib the dashboard uses (the package ships no types).
declare module 'blessed-contrib' {
  import type { Widgets } from 'blessed';

  /** One series of a line chart. */
  export interface LineSeries {
    title: string;
    x: string[];
    y: number[];
    style?: { line?: string };
  }

  /** A braille line chart; `setData` only after it is appended to the screen. */
  export interface LineChart extends Widgets.BoxElement {
    setData(series: LineSeries[]): void;
  }

  export function line(
    options: Widgets.BoxOptions & {
      showLegend?: boolean;
      wholeNumbersOnly?: boolean;
      numYLabels?: number;
      xLabelPadding?: number;
      xPadding?: number;
    },
  ): LineChart;
}
