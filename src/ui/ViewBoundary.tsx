import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  /** what the view is, for the message ("The checkpoint view") */
  name: string;
  /** a view shown for other data starts afresh (a new tab, another page) */
  resetKey?: string;
  children: ReactNode;
}

/**
 * One view that fails to render says so in its place, and the rest of the page keeps working: a
 * crafted or damaged file must never blank the whole page.
 */
export class ViewBoundary extends Component<Props, { error: Error | null; key: string | undefined }> {
  override state = { error: null as Error | null, key: this.props.resetKey };

  static getDerivedStateFromError(error: unknown) {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  static getDerivedStateFromProps(props: Props, state: { error: Error | null; key: string | undefined }) {
    return props.resetKey !== state.key ? { error: null, key: props.resetKey } : null;
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(`${this.props.name} failed to render`, error, info.componentStack);
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="view-failed" role="alert">
        <strong>{this.props.name} could not be shown:</strong> {this.state.error.message}
        <p className="muted">The rest of the page still works: pick another tab or view, or reload.</p>
        <button type="button" onClick={() => this.setState({ error: null })}>
          Try again
        </button>
      </div>
    );
  }
}
