export declare const knownFailures: Record<string, { cause: RegExp; why: string }>;
