/** The console's built files, read once at start-up (see `loadConsoleAssets`). */
export const CONSOLE_ASSETS = Symbol('CONSOLE_ASSETS');
