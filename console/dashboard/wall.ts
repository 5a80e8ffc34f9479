/**
 * The wall on a blessed screen for one layout: the widgets of `layout.ts` in their boxes and
 * the key line, or, below the minimum size, one line that says so. A resize builds it anew
 * (the charts size their canvas when they are attached) and feeds it the history it has.
 */
import blessed from 'blessed';
import type { Snapshot } from '../engine/measure/snapshot.ts';
import { keyLine, type WallState } from './keys.ts';
import { layoutFor, type WidgetName } from './layout.ts';
import { errorsPanel, eventsPanel, generatorPanel, nowPanel, recoveryPanel } from './panels.ts';
import { CHARTS } from './series.ts';
import { lineChart } from './widgets/line-chart.ts';
import { textPanel } from './widgets/text-panel.ts';

/** The wall as drawn now. */
export interface Wall {
  /** Redraws the widgets from the latest snapshot and the history. */
  update(history: Snapshot[]): void;
  /** Redraws the key line. */
  setState(state: WallState): void;
  destroy(): void;
}

type Widget = { element: blessed.Widgets.BlessedElement; update(s: Snapshot, history: Snapshot[]): void };

/** Draws the wall for the screen's current size. */
export function buildWall(screen: blessed.Widgets.Screen): Wall {
  const layout = layoutFor(Number(screen.width), Number(screen.height));
  if (layout.kind === 'too-small') {
    const notice = blessed.box({
      top: 0,
      left: 0,
      width: '100%',
      height: '100%',
      wrap: true,
      tags: false,
      content: `${layout.message} (resize the terminal, or q to quit)`,
    });
    screen.append(notice);
    return { update() {}, setState() {}, destroy: () => notice.destroy() };
  }
  const b = layout.boxes;
  const widgets: Record<WidgetName, Widget> = {
    fleet: lineChart(screen, b.fleet, CHARTS.fleet.title, CHARTS.fleet.fold),
    latency: lineChart(screen, b.latency, CHARTS.latency.title, CHARTS.latency.fold),
    surge: lineChart(screen, b.surge, CHARTS.surge.title, CHARTS.surge.fold),
    now: textPanel(screen, b.now, 'Now', nowPanel),
    events: textPanel(screen, b.events, 'Events', eventsPanel),
    recovery: textPanel(screen, b.recovery, 'Recovery after chaos', recoveryPanel),
    errors: textPanel(screen, b.errors, 'Errors', errorsPanel),
    generator: textPanel(screen, b.generator, 'Generator', generatorPanel),
  };
  const keys = blessed.box({ ...layout.keyLine, tags: false, wrap: false, style: { fg: 'black', bg: 'cyan' } });
  screen.append(keys);
  return {
    update(history) {
      const latest = history[history.length - 1];
      if (!latest) return;
      for (const widget of Object.values(widgets)) widget.update(latest, history);
    },
    setState(state) {
      keys.setContent(keyLine(state, layout.cols));
    },
    destroy() {
      for (const widget of Object.values(widgets)) widget.element.destroy();
      keys.destroy();
    },
  };
}
