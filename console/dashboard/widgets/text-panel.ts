import blessed from 'blessed';
import type { Snapshot } from '../../engine/measure/snapshot.ts';
import type { Box } from '../layout.ts';
import type { Inner, PanelText } from '../panels.ts';

/** A bordered box of plain text from one of the pure panels; its border turns red on an alert. */
export function textPanel(
  screen: blessed.Widgets.Screen,
  box: Box,
  label: string,
  panel: (s: Snapshot, inner: Inner) => PanelText,
) {
  const element = blessed.box({
    ...box,
    label: ` ${label} `,
    tags: false,
    wrap: false,
    border: { type: 'line' },
    style: { border: { fg: 'cyan' } },
  });
  screen.append(element);
  const inner: Inner = { width: box.width - 2, height: box.height - 2 };
  return {
    element,
    update(snapshot: Snapshot): void {
      const text = panel(snapshot, inner);
      element.style.border.fg = text.isAlert ? 'red' : 'cyan';
      element.setContent(text.lines.join('\n'));
    },
  };
}
