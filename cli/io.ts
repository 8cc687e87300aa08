/** What a CLI command may touch (streams, exit codes, usage errors): one definition, the reader-helper's. */
export { type CliIo, ExitCode, processIo, UsageError } from '../reader-helper/cli/io.js';
