export const ROOT: string;
export const SANDBOX_DIR: string;
export function sandbox(dir?: string): Record<string, string>;
