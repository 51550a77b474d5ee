import type { Browser } from 'playwright-core';
export declare function findChromium(env?: NodeJS.ProcessEnv, debianPath?: string): string | undefined;
export declare const CHROMIUM_PATH: string | undefined;
export declare const REQUIRE_BROWSER: boolean;
export declare const SKIP_BROWSER_TESTS: boolean;
export declare const CHROMIUM_ARGS: string[];
export declare function launchChromium(): Promise<Browser>;
