// Runs the hadiag CLI from source for the lab integration tests: node --import tsx lab-cli.ts ARGS
import { main } from '../../src/cli/main.js';
await main(process.argv.slice(2));
