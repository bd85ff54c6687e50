/** One bad or missing setting, named as the user wrote it (variable or flag). */
export interface ConfigIssue {
  readonly setting: string;
  readonly problem: string;
}

/**
 * Thrown when configuration is invalid: carries every issue at once so the user fixes them in one
 * go. The CLI prints it and exits 2. Messages never contain a secret's value.
 */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(`Configuration error:\n${issues.map((issue) => `  ${issue.setting}: ${issue.problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
