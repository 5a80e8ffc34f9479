import { Box, Text } from 'ink';
import { helpRows } from './keymap.ts';

/** The help screen: every key of the keymap and the command line. */
export function HelpView() {
  return (
    <Box flexDirection="column" borderStyle="single" paddingX={1}>
      <Text bold>Keys</Text>
      {helpRows().map(({ keys, text }) => (
        <Text key={text} wrap="truncate">
          <Text color="cyan">{keys.padEnd(6)}</Text> {text}
        </Text>
      ))}
    </Box>
  );
}
