import { EXIT_CODES } from '@desync/core';
import type { Hook } from '@oclif/core';

/**
 * An unknown command is one line, `desync: …`, like every other usage error (oclif's own
 * message has another shape), and exit status 2.
 */
export const commandNotFound: Hook<'command_not_found'> = async (options) => {
  // oclif joins the words it tried as a topic path (`a:b`): the first is the unknown one.
  const name = options.id.split(':')[0];
  process.stderr.write(`desync: unknown command '${name}'; see desync --help\n`);
  process.exit(EXIT_CODES.INVALID_ARGUMENT);
};
