/**
 * Exit codes of the `repid` command, for scripts to test. Stable: a new code may be added, an
 * existing one never changes meaning.
 */
export const ExitCode = {
  /** The command did what was asked. */
  OK: 0,
  /** The operation failed or found nothing: unknown job, nothing to cancel, undeclared queue. */
  FAILED: 1,
  /** The command line is wrong: unknown command or option, missing argument, bad JSON. */
  USAGE: 2,
  /** `repid enqueue`: the arguments do not match the actor's schema (the issues are printed). */
  INVALID_ARGS: 3,
  /** The broker could not be reached, or it lacks the admin operations. */
  UNAVAILABLE: 4,
  /** The broker answered, but some of its data is broken (listed with the problem; the rest is fine). */
  BAD_DATA: 5,
} as const;

/** One of the values of {@link ExitCode}. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
