import { ApiError } from '../api';

/** The policy the server enforces on every new password, in words, next to every password field. */
export const PASSWORD_HINT =
  'At least 10 characters, not a common password, and not the user name. A few unrelated words make a good one.';

/**
 * A failed request as the person should read it: the server's message, and for a weak password
 * every problem the policy found, so they can fix them all at once.
 */
export function FormError(props: { error: unknown }) {
  const { error } = props;
  if (error === null || error === undefined) return null;
  if (error instanceof ApiError && error.problems.length > 0) {
    return (
      <div className="error form-error" role="alert" data-code={error.code}>
        <p>Choose another password. This one:</p>
        <ul className="problems">
          {error.problems.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      </div>
    );
  }
  return (
    <p
      className="error form-error"
      role="alert"
      data-code={error instanceof ApiError ? error.code : undefined}
    >
      {error instanceof Error ? error.message : String(error)}
    </p>
  );
}

/** A FORBIDDEN answer where a whole view would be: the server's message says what is missing. */
export function Forbidden(props: { message: string }) {
  return (
    <div className="forbidden" role="alert">
      <h1>Not allowed</h1>
      <p className="error">{props.message}</p>
    </div>
  );
}
