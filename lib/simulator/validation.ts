/** Turns zod issues into one readable line naming each bad field, for control-API 400s. */
import type { z } from 'zod';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses `input` with `schema`; on failure the error names the field (`sender.staffId: …`). */
export function parseWith<T>(schema: z.ZodType<T>, input: unknown, what: string): Parsed<T> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `\`${path}\`: ${issue.message}` : issue.message;
  });
  return { ok: false, error: `invalid ${what}: ${problems.join('; ')}` };
}
