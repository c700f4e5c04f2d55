import { Component, type ReactNode, useEffect, useRef } from 'react';
import { ApiFailure } from '../api/client';

export function StatusBadge({ status }: { readonly status: string }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}

export function When({ at }: { readonly at: string | null }) {
  if (at === null) return <span className="muted">—</span>;
  return <time dateTime={at}>{new Date(at).toLocaleString()}</time>;
}

export function messageOf(error: unknown): string {
  if (error instanceof ApiFailure) return error.message;
  if (error instanceof Error && error.message.length > 0) return error.message;
  return 'Something went wrong';
}

export function ErrorMessage({ error }: { readonly error: unknown }) {
  if (error === null || error === undefined) return null;
  return (
    <p role="alert" className="error">
      {messageOf(error)}
    </p>
  );
}

export function Loading({ what }: { readonly what: string }) {
  return (
    <p className="muted" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** A button that says why it is disabled, next to it and to assistive technology. */
export function ActionButton(props: {
  readonly label: string;
  readonly denial: string | undefined;
  readonly onClick: () => void;
  readonly unavailable?: string | undefined;
  readonly danger?: boolean;
}) {
  const reason = props.denial ?? props.unavailable;
  const id = `why-${props.label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <span className="action">
      <button
        type="button"
        className={props.danger === true ? 'danger' : undefined}
        disabled={reason !== undefined}
        aria-describedby={reason === undefined ? undefined : id}
        onClick={props.onClick}
      >
        {props.label}
      </button>
      {reason !== undefined && (
        <small id={id} className="reason">
          {reason}
        </small>
      )}
    </span>
  );
}

/** A modal dialog: the native `<dialog>` makes the page behind it inert, so focus stays inside. */
export function ConfirmDialog(props: {
  readonly title: string;
  readonly children: ReactNode;
  readonly confirmLabel: string;
  readonly busy: boolean;
  readonly error: unknown;
  readonly onConfirm: () => void;
  readonly onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element !== null && !element.open) element.showModal();
    // No close() on cleanup: its close event would dismiss the dialog again under StrictMode's
    // second effect run; a modal removed from the document stops being modal by itself.
  }, []);
  return (
    <dialog ref={dialog} aria-labelledby="dialog-title" onClose={props.onClose}>
      <h2 id="dialog-title">{props.title}</h2>
      <div>{props.children}</div>
      <ErrorMessage error={props.error} />
      <div className="buttons">
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={props.busy} onClick={props.onConfirm}>
          {props.busy ? 'Working…' : props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

interface BoundaryState {
  readonly error: unknown;
}

/** Whatever a view throws, the page shows a message and a way back instead of going blank. */
export class ErrorBoundary extends Component<{ readonly children: ReactNode }, BoundaryState> {
  override state: BoundaryState = { error: undefined };

  static getDerivedStateFromError(error: unknown): BoundaryState {
    return { error };
  }

  override render() {
    if (this.state.error === undefined) return this.props.children;
    return (
      <section className="panel">
        <h1>This view failed</h1>
        <ErrorMessage error={this.state.error} />
        <button type="button" onClick={() => this.setState({ error: undefined })}>
          Try again
        </button>
      </section>
    );
  }
}
