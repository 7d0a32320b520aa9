import { readFileSync } from 'node:fs';
import { createSyncNode } from '@sync/core';
import { confirmDeletesCommand } from './confirm-deletes';
import { parseConfig } from './config';
import { Daemon } from './daemon';
import { tuneHeap } from './heap';
import { createLogger } from './logger';
import type { AppLogger } from './logger';
import { version } from './version';

/** After a stop signal, exit anyway once this has passed: a supervisor's SIGKILL usually comes at 10 s. */
const stopTimeoutMs = 8_000;

function main(): void {
  if (process.argv[2] === 'confirm-deletes') {
    void confirmDeletesCommand(process.argv.slice(3), process.env).then(({ exitCode, text }) => {
      (exitCode === 0 ? process.stdout : process.stderr).write(text);
      process.exitCode = exitCode;
    });
    return;
  }
  const result = parseConfig(process.argv.slice(2), process.env, (path) => readFileSync(path, 'utf8'));
  switch (result.kind) {
    case 'help':
      process.stdout.write(result.text);
      return;
    case 'version':
      process.stdout.write(`${version}\n`);
      return;
    case 'error':
      process.stderr.write(`sync-node: ${result.message}\n`);
      process.exitCode = result.exitCode;
      return;
  }
  const { config, warnings } = result;
  tuneHeap();
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  for (const warning of warnings) logger.warn(warning);
  let daemon: Daemon;
  try {
    daemon = new Daemon(config, { logger, createNode: createSyncNode });
  } catch (error) {
    logger.error('failed to start', { error: errorText(error) });
    process.exitCode = 1;
    return;
  }
  const shutdown = shutdownOnce(daemon, logger);
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  process.on('uncaughtException', (error) => {
    logger.error('uncaught exception', { error: error.stack ?? String(error) });
    shutdown('uncaught exception', 1);
  });
  process.on('unhandledRejection', (reason) => {
    logger.error('unhandled rejection', { error: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason) });
    shutdown('unhandled rejection', 1);
  });
  daemon.start().catch((error: unknown) => {
    logger.error('failed to start', { error: errorText(error) });
    shutdown('start failed', 1);
  });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The first call stops the daemon and exits with `code`; later calls (a second Ctrl-C) only log. */
function shutdownOnce(daemon: Daemon, logger: AppLogger): (reason: string, code: number) => void {
  let exitCode: number | null = null;
  return (reason, code) => {
    if (exitCode !== null) {
      exitCode = Math.max(exitCode, code);
      logger.info('already stopping', { reason });
      return;
    }
    exitCode = code;
    logger.info('stopping', { reason });
    const force = setTimeout(() => {
      logger.error('stop took too long; exiting without a clean stop', { afterMs: stopTimeoutMs });
      process.exit(1);
    }, stopTimeoutMs);
    daemon.stop().then(
      () => {
        clearTimeout(force);
        logger.info('stopped', { exitCode });
        process.exit(exitCode ?? 0);
      },
      (error: unknown) => {
        logger.error('stop failed', { error: errorText(error) });
        process.exit(1);
      },
    );
  };
}

main();
