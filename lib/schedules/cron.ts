import { CronExpressionParser } from "cron-parser";

/**
 * Cron schedules as Kubernetes CronJobs (and Radix's `cron`) write them: five fields (minute, hour,
 * day of month, month, day of week) or one of the macros, in a time zone. Parsing and next-run times come
 * from cron-parser (pinned in package.json); this module only checks what EventBridge Scheduler cannot run
 * and writes the same schedule in EventBridge Scheduler's six-field `cron(...)` form.
 *
 * Kubernetes: https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#schedule-syntax
 * EventBridge Scheduler: https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based
 * (`cron(minutes hours day-of-month month day-of-week year)`, one of day-of-month / day-of-week is `?`,
 * day-of-week 1-7 = SUN-SAT, expression at most 256 characters).
 */

export class CronError extends Error {
  override name = "CronError";
}

/** Kubernetes CronJob macros (robfig/cron's standard parser, which Kubernetes uses). */
const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const NAMES = /\b(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT)\b/gi;
const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
/** EventBridge Scheduler refuses longer expressions. */
const MAX_EXPRESSION = 256;

/** An IANA time zone name this runtime knows (EventBridge Scheduler takes the same names). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The five fields of a Kubernetes schedule, macros expanded; refuses what Kubernetes does not accept. */
function fieldsOf(schedule: string): string[] {
  const text = schedule.trim();
  if (/^(CRON_)?TZ=/i.test(text))
    throw new CronError("a time zone inside the schedule (TZ=...) is not supported; set timeZone instead");
  const expanded = MACROS[text.toLowerCase()] ?? text;
  if (expanded.startsWith("@"))
    throw new CronError(`unknown macro ${text} (known: ${Object.keys(MACROS).join(", ")})`);
  const fields = expanded.split(/\s+/);
  if (fields.length !== 5)
    throw new CronError(
      `has ${fields.length} fields; a Kubernetes cron schedule has 5 (minute hour day-of-month month day-of-week)`,
    );
  for (const field of fields) {
    if (/[A-Z#]/i.test(field.replace(NAMES, "")) && field !== "?")
      throw new CronError(
        `field '${field}' uses L, W, # or H, which Kubernetes cron schedules do not have (use lists and ranges)`,
      );
  }
  return fields;
}

function parsed(schedule: string, timeZone: string, currentDate?: Date) {
  const fields = fieldsOf(schedule);
  if (!isTimeZone(timeZone)) throw new CronError(`time zone '${timeZone}' is not an IANA time zone name`);
  try {
    // Seconds fixed at 0: Kubernetes and EventBridge Scheduler both run at whole minutes.
    return CronExpressionParser.parse(`0 ${fields.join(" ")}`, { tz: timeZone, currentDate });
  } catch (cause) {
    throw new CronError(`is not a valid cron schedule: ${(cause as Error).message}`, { cause });
  }
}

/** `1,2,3,7,8` → `1-3,7-8`; an arithmetic series from its first value to the field's end → `first/step`. */
function compact(values: readonly number[], max: number, steps = true): string {
  if (steps && values.length >= 3) {
    const step = values[1]! - values[0]!;
    const series = values.every((value, index) => value === values[0]! + index * step);
    if (step > 1 && series && values.at(-1)! + step > max) return `${values[0]}/${step}`;
  }
  const parts: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    parts.push(j - i >= 2 ? `${values[i]}-${values[j]}` : values.slice(i, j + 1).join(","));
    i = j + 1;
  }
  return parts.join(",");
}

const numbers = (values: readonly (number | string)[]) =>
  [...new Set(values.filter((value): value is number => typeof value === "number"))].sort((a, b) => a - b);

/**
 * Checks a schedule and time zone and returns the same schedule as an EventBridge Scheduler expression.
 * Refuses what EventBridge Scheduler cannot express: a day of month and a day of week both restricted
 * (cron's "either" rule; EventBridge wants one of them `?`): split it into two schedules.
 * @example eventBridgeExpression("*\/5 9-17 * * 1-5", "Europe/Oslo") // "cron(0/5 9-17 ? * MON-FRI *)"
 */
export function eventBridgeExpression(schedule: string, timeZone = "UTC"): string {
  const { fields } = parsed(schedule, timeZone);
  const minute = numbers(fields.minute.values);
  const hour = numbers(fields.hour.values);
  const dayOfMonth = numbers(fields.dayOfMonth.values);
  const month = numbers(fields.month.values);
  const dayOfWeek = [...new Set(numbers(fields.dayOfWeek.values).map((day) => day % 7))].sort(
    (a, b) => a - b,
  );
  const allDays = dayOfMonth.length === 31;
  const allWeekdays = dayOfWeek.length === 7;
  if (!allDays && !allWeekdays)
    throw new CronError(
      "restricts both the day of month and the day of week, which EventBridge Scheduler cannot run; write two schedules, one for each",
    );
  const field = (values: number[], min: number, max: number) =>
    values.length === max - min + 1 ? "*" : compact(values, max);
  const weekdays = allWeekdays
    ? "?"
    : // EventBridge's day of week is 1-7 = SUN-SAT and takes no step: a list or ranges of names.
      compact(
        dayOfWeek.map((day) => day + 1),
        7,
        false,
      ).replace(/\d+/g, (day) => DAY_NAMES[Number(day) - 1]!);
  const expression = `cron(${field(minute, 0, 59)} ${field(hour, 0, 23)} ${allWeekdays ? field(dayOfMonth, 1, 31) : "?"} ${field(month, 1, 12)} ${weekdays} *)`;
  if (expression.length > MAX_EXPRESSION)
    throw new CronError(`becomes an EventBridge expression longer than ${MAX_EXPRESSION} characters`);
  return expression;
}

/**
 * The first run strictly after `after`, in the schedule's time zone (daylight-saving changes as
 * cron-parser handles them).
 */
export function nextRun(schedule: string, timeZone: string, after: Date): Date {
  return parsed(schedule, timeZone, after).next().toDate();
}

/** The latest run at or before `at`. */
export function previousRun(schedule: string, timeZone: string, at: Date): Date {
  return parsed(schedule, timeZone, new Date(at.getTime() + 1))
    .prev()
    .toDate();
}
