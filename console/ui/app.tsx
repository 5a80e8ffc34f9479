/**
 * The console: panels over the latest snapshot, the fleet's parts when it runs over several,
 * an event log, and a command bar. It reads snapshots and sends command lines; it never
 * reaches into the engine. Below {@link MIN_TERMINAL} it says so instead of drawing a frame
 * the terminal would mangle.
 */
import { Box, Text, useApp } from 'ink';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Engine } from '../engine/engine.ts';
import type { ConsoleSession } from '../script/console-session.ts';
import { consoleReducer, INITIAL_STATE, type ConsoleAction, type ConsoleState } from './console-state.ts';
import { clock, ms } from '../report/format.ts';
import { HelpView } from './help-view.tsx';
import { hintLine } from './keymap.ts';
import {
  BroadcastLine,
  ErrorsPanel,
  FleetPanel,
  HealthPanel,
  LatencyPanel,
  RecoveryPanel,
  ServerPanel,
  ThroughputPanel,
} from './panels.tsx';
import { layoutParts, partsRowBudget } from './parts-layout.ts';
import { PartsLines } from './parts-lines.tsx';
import { useConsoleKeys } from './use-console-keys.ts';
import { useSnapshot } from './use-snapshot.ts';
import { useTerminalSize } from './use-terminal-size.ts';
import { useTimelineCleanup } from './use-timeline-cleanup.ts';

/** Props of {@link App}. */
export interface AppProps {
  engine: Engine;
  session: ConsoleSession;
  /** Called once when the operator quits (q or Ctrl+C). */
  onQuit(): void;
}

/** The smallest terminal the console draws in. */
export const MIN_TERMINAL = { columns: 80, rows: 24 } as const;

/**
 * Rows of the frame besides the parts and the event log: the header, two rows of panels (7
 * each), the broadcast and generator lines, the command bar (2), and one left free: a frame as
 * tall as the terminal makes Ink clear the whole screen on every render.
 */
const FIXED_ROWS = 1 + 7 + 7 + 1 + 1 + 2 + 1;

/** The widest the panels grow. */
const MAX_WIDTH = 140;

function CommandBar({ state }: { state: ConsoleState }) {
  const message = state.message;
  let top = (
    <Text color={message?.isError ? 'red' : 'green'} wrap="truncate">
      {message?.text || ' '}
    </Text>
  );
  if (state.mode === 'command')
    top = (
      <Text wrap="truncate">
        :{state.input}
        <Text inverse> </Text>
      </Text>
    );
  if (state.mode === 'confirm')
    top = (
      <Text color="yellow" bold wrap="truncate">
        {state.pending?.question}
      </Text>
    );
  return (
    <Box flexDirection="column">
      {top}
      <Text dimColor wrap="truncate">
        {state.mode === 'command'
          ? 'Enter runs  Esc leaves  Tab completes  ↑/↓ history  save FILE keeps the session'
          : hintLine()}
      </Text>
    </Box>
  );
}

/** Widths of the top row (fleet, latency, throughput): latency needs 31 columns for its four figures. */
function topWidths(width: number): [number, number, number] {
  const latency = Math.max(31, Math.round(width * 0.38));
  const throughput = Math.floor((width - latency) / 2) - 1;
  return [width - latency - throughput, latency, throughput];
}

/** The whole console. */
export function App({ engine, session, onQuit }: AppProps) {
  const { snapshot, history } = useSnapshot(engine);
  useTimelineCleanup();
  // the reducer's state lives in a ref so that keys arriving between renders see the latest
  const stateRef = useRef(INITIAL_STATE);
  const [state, setState] = useState(INITIAL_STATE);
  const dispatch = useCallback((action: ConsoleAction) => {
    stateRef.current = consoleReducer(stateRef.current, action);
    setState(stateRef.current);
  }, []);
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const runLine = useCallback(
    (line: string) => {
      void session.run(line).then((result) => {
        if (result.message) dispatch({ type: 'message', text: result.message, isError: !result.ok });
      });
    },
    [session, dispatch],
  );
  useEffect(
    () => session.onNotice((notice) => dispatch({ type: 'message', text: notice.message, isError: !notice.ok })),
    [session, dispatch],
  );
  const quit = useCallback(() => {
    onQuit();
    exit();
  }, [exit, onQuit]);
  useConsoleKeys({
    getState: () => stateRef.current,
    dispatch,
    runLine,
    quit,
    openNow: () => engine.live().open,
    policyNow: () => session.policyInForce(),
  });
  if (columns < MIN_TERMINAL.columns || (rows !== null && rows < MIN_TERMINAL.rows)) {
    return (
      <Box flexDirection="column">
        <Text color="yellow" wrap="truncate">
          terminal too small: {columns}x{rows ?? '?'}, needs {MIN_TERMINAL.columns}x{MIN_TERMINAL.rows}
        </Text>
        <Text dimColor wrap="truncate">
          q quits
        </Text>
      </Box>
    );
  }
  const width = Math.min(columns, MAX_WIDTH);
  // the parts take rows from the event log: at 80x24, two of its four
  const spareRows = (rows ?? MIN_TERMINAL.rows) - FIXED_ROWS;
  const parts = snapshot.parts ? layoutParts(snapshot.parts, width - 2, partsRowBudget(spareRows)) : null;
  const eventRows = Math.max(2, Math.min(12, spareRows - (parts?.rows.length ?? 0)));
  const [fleet, latency, throughput] = topWidths(width);
  // the errors' counts come first and their names may be cut; the server's six figures need the room
  const third = Math.floor(width / 3);
  const [errorsWidth, recoveryWidth] = [third - 2, third];
  const props = { snapshot, history };
  // events are stamped with the session's clock, as the header and a saved script's waits are
  const startedAtMs = snapshot.atMs - snapshot.elapsedMs;
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text bold color="cyan">
          sockstorm
        </Text>{' '}
        {snapshot.target.url}
        {snapshot.target.isBundled ? ` (bundled ${snapshot.target.serverEngine})` : ''}
        {`  ${ms(snapshot.elapsedMs)}`}
        {snapshot.isStopped ? <Text color="yellow">{'  stopped'}</Text> : null}
      </Text>
      {state.mode === 'help' ? (
        <HelpView />
      ) : (
        <>
          <Box>
            <FleetPanel {...props} width={fleet} />
            <LatencyPanel {...props} width={latency} />
            <ThroughputPanel {...props} width={throughput} />
          </Box>
          <Box height={7}>
            <ErrorsPanel {...props} width={errorsWidth} />
            <RecoveryPanel {...props} width={recoveryWidth} />
            <ServerPanel {...props} width={width - errorsWidth - recoveryWidth} />
          </Box>
          <BroadcastLine {...props} width={width} />
          <HealthPanel {...props} width={width} />
          {parts ? <PartsLines grid={parts} width={width} /> : null}
          <Box flexDirection="column" height={eventRows}>
            {snapshot.events.slice(-eventRows).map((event) => (
              <Text
                key={event.id}
                wrap="truncate"
                color={event.level === 'error' ? 'red' : event.level === 'warn' ? 'yellow' : undefined}
                dimColor={event.level === 'info'}
              >
                {clock(event.atMs - startedAtMs).padStart(5)} {event.text}
              </Text>
            ))}
          </Box>
        </>
      )}
      <CommandBar state={state} />
    </Box>
  );
}
