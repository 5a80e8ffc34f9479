/**
 * The console: panels over the latest snapshot, an event log, and a command bar. It reads
 * snapshots and sends command lines; it never reaches into the engine.
 */
import { Box, Text, useApp, useStdout } from 'ink';
import { useCallback, useRef, useState } from 'react';
import type { Engine } from '../engine/engine.ts';
import type { ConsoleSession } from '../script/console-session.ts';
import { consoleReducer, INITIAL_STATE, type ConsoleAction, type ConsoleState } from './console-state.ts';
import { ms } from '../report/format.ts';
import { HelpView } from './help-view.tsx';
import { ErrorsPanel, FleetPanel, HealthPanel, LatencyPanel, RecoveryPanel, ServerPanel, ThroughputPanel } from './panels.tsx';
import { useConsoleKeys } from './use-console-keys.ts';
import { useSnapshot } from './use-snapshot.ts';
import { useTimelineCleanup } from './use-timeline-cleanup.ts';

/** Props of {@link App}. */
export interface AppProps {
  engine: Engine;
  session: ConsoleSession;
  /** Called once when the operator quits (q or Ctrl+C). */
  onQuit(): void;
}

function CommandBar({ state }: { state: ConsoleState }) {
  if (state.mode === 'command') return <Text>:{state.input}<Text inverse> </Text></Text>;
  if (state.mode === 'confirm') return <Text color="yellow" bold>{state.pending?.question}</Text>;
  const message = state.message;
  return (
    <Box flexDirection="column">
      <Text color={message?.isError ? 'red' : 'green'} wrap="truncate">{message?.text ?? ' '}</Text>
      <Text dimColor wrap="truncate">+/- 100  */ 1000  b broadcast  k kill 20%  r reconnect  : command  ? help  q quit</Text>
    </Box>
  );
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
  const { stdout } = useStdout();
  const width = Math.max(60, Math.min(stdout.columns ?? 80, 140));
  const runLine = useCallback((line: string) => {
    void session.run(line).then((result) => {
      if (result.message) dispatch({ type: 'message', text: result.message, isError: !result.ok });
    });
  }, [session, dispatch]);
  const quit = useCallback(() => {
    onQuit();
    exit();
  }, [exit, onQuit]);
  useConsoleKeys({
    getState: () => stateRef.current, dispatch, runLine, quit,
    openNow: () => engine.live().open,
    policyNow: () => engine.getSnapshot().fleet.policy,
  });
  const side = Math.floor(width * 0.3);
  const middle = width - 2 * side;
  const halves = [Math.floor(width / 3), Math.floor(width / 3), width - 2 * Math.floor(width / 3)];
  const props = { snapshot, history };
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text bold color="cyan">sockstorm</Text> {snapshot.target.url}{snapshot.target.isBundled ? ` (bundled ${snapshot.target.serverEngine})` : ''}  {ms(snapshot.elapsedMs)}
        {snapshot.isStopped ? <Text color="yellow">  stopped</Text> : null}
      </Text>
      {state.mode === 'help' ? <HelpView /> : (
        <>
          <Box>
            <FleetPanel {...props} width={side} />
            <LatencyPanel {...props} width={middle} />
            <ThroughputPanel {...props} width={side} />
          </Box>
          <Box>
            <ErrorsPanel {...props} width={halves[0]!} />
            <RecoveryPanel {...props} width={halves[1]!} />
            <ServerPanel {...props} width={halves[2]!} />
          </Box>
          <HealthPanel {...props} width={width} />
          <Box flexDirection="column" height={4}>
            {snapshot.events.slice(-4).map((event) => (
              <Text key={event.id} wrap="truncate" color={event.level === 'error' ? 'red' : event.level === 'warn' ? 'yellow' : undefined} dimColor={event.level === 'info'}>
                {new Date(event.atMs).toISOString().slice(11, 19)} {event.text}
              </Text>
            ))}
          </Box>
        </>
      )}
      <CommandBar state={state} />
    </Box>
  );
}
