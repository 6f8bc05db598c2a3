import { runMain } from '@kraken/service-kit';
import { createApp } from './app.js';
import { configSchema } from './config.js';

process.exitCode = await runMain({ component: 'build-index', schema: configSchema, createApp });
