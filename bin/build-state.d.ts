export declare const root: string;
export declare const distDir: string;
export declare const stampFile: string;
export declare function newestSourceTime(): number;
export declare function buildState(): 'fresh' | 'stale' | 'missing';
