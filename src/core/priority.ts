import { InvalidOptionError } from "./errors.js";

/** Numeric priority on the wire: 0 high, 1 medium, 2 low. */
export type PriorityLevel = 0 | 1 | 2;

/**
 * Job priorities. Among ready messages of a queue HIGH runs before MEDIUM before LOW.
 * @example new Job("report", { priority: Priority.HIGH })
 */
export const Priority = Object.freeze({ HIGH: "high", MEDIUM: "medium", LOW: "low" } as const);

/** `"high" | "medium" | "low"`. */
export type Priority = (typeof Priority)[keyof typeof Priority];

const LEVELS: Record<Priority, PriorityLevel> = { high: 0, medium: 1, low: 2 };

/** Validates a priority option and returns its wire level. */
export function priorityLevel(priority: unknown): PriorityLevel {
  if (typeof priority === "string" && Object.hasOwn(LEVELS, priority)) {
    return LEVELS[priority as Priority];
  }
  throw new InvalidOptionError(
    "priority",
    `expected "high", "medium" or "low", got ${JSON.stringify(priority)}`,
  );
}
