import { l8error } from '@layer8/protocol';

/**
 * Reads one line from stdin without echoing it on a terminal (raw mode; backspace works, Ctrl-C aborts),
 * or the first line of piped input. The prompt goes to stderr.
 * @throws L8_ERR_ABORTED on Ctrl-C; L8_ERR_INVALID_ARGUMENT when stdin ends with nothing
 */
export function readSecretFromStdin(prompt: string): Promise<string> {
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (err?: Error) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      if (tty) stdin.setRawMode(false);
      stdin.pause();
      if (tty) process.stderr.write('\n');
      if (err !== undefined) reject(err);
      else if (text === '') reject(l8error('L8_ERR_INVALID_ARGUMENT', 'no password given'));
      else resolve(text);
    };
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(l8error('L8_ERR_ABORTED', 'interrupted'));
        text = ch === '\u007f' ? text.slice(0, -1) : text + ch;
      }
    };
    const onEnd = () => done();
    if (tty) stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
  });
}
