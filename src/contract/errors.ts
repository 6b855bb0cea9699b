/** The body of every error answer; the codes are listed in docs/ref/errors.md. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}
