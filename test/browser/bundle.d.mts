export declare const repoRoot: string;
export declare function buildCoreDist(): void;
export interface BrowserBundle {
  code: string;
  bytes: number;
  gzipBytes: number;
  inputs: string[];
}
export declare function bundleForBrowser(options?: { contents?: string; entry?: string; minify?: boolean }): Promise<BrowserBundle>;
export declare const FORBIDDEN: [string, RegExp][];
