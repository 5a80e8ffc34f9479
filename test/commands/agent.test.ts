import { describe, expect, it } from 'vitest';
import { checkAgentFlags } from '../../console/commands/agent.ts';

describe("an agent's flags", () => {
  const token = 'a-token-of-16-chars';
  it('refuses plain ws:// to another host unless --plaintext, and --insecure is not --plaintext', () => {
    expect(checkAgentFlags({ coordinator: 'ws://coordinator:7400', token })).toContain('use wss://');
    expect(checkAgentFlags({ coordinator: 'ws://coordinator:7400', token })).toContain('--plaintext');
    expect(checkAgentFlags({ coordinator: 'ws://coordinator:7400', token, insecure: true })).toContain('--plaintext');
    expect(checkAgentFlags({ coordinator: 'ws://coordinator:7400', token, plaintext: true })).toBeNull();
    expect(checkAgentFlags({ coordinator: 'ws://127.0.0.1:7400', token })).toBeNull();
    expect(checkAgentFlags({ coordinator: 'wss://coordinator:7400', token })).toBeNull();
    expect(checkAgentFlags({ coordinator: 'wss://coordinator:7400', token: 'short' })).toContain(
      'at least 16 characters',
    );
  });
});
