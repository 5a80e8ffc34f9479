import { Box, Text } from 'ink';

const KEYS: Array<[string, string]> = [
  ['+ / -', 'add / remove 100 VUs'],
  ['* / /', 'add / remove 1000 VUs'],
  ['b', 'broadcast one message through the fleet'],
  ['k', 'kill 20% of open VUs (asks first)'],
  ['r', 'cycle reconnect: off, immediate, fixed 1s, expo 100ms..5s full'],
  [':', 'command line: any fleet command, e.g. "ramp 5000 over 30s", "kill 10% close",'],
  ['', '"server workMs 20", "probe 100/s"; ↑/↓ history, Tab completes;'],
  ['', '"save FILE" writes this session as a script for sockstorm run'],
  ['?', 'this help (any key closes it)'],
  ['q', 'quit: stops the fleet gracefully and restores the terminal'],
];

/** The help screen: keys and the command line. */
export function HelpView() {
  return (
    <Box flexDirection="column" borderStyle="single" paddingX={1}>
      <Text bold>Keys</Text>
      {KEYS.map(([key, text], index) => (
        <Text key={index}><Text color="cyan">{key.padEnd(6)}</Text> {text}</Text>
      ))}
    </Box>
  );
}
